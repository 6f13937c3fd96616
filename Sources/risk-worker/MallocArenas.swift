#if canImport(Glibc)
import Glibc
#endif

/// The number of glibc malloc arenas the worker allocates from.
enum MallocArenas {
    /// glibc's `M_ARENA_MAX` parameter of `mallopt` (malloc.h, which the Glibc module does not import).
    private static let arenaMaxParameter: CInt = -8

    /// Caps the arenas at `count` unless `MALLOC_ARENA_MAX` is set. glibc makes up to eight per core, one more each
    /// time a thread meets a locked one, and every arena keeps freed memory of its own: with two arenas the worker's
    /// peak resident memory with a backlog was 11-13 MB lower at the same CPU per event (BENCHMARKS.md, issue 16).
    static func limit(to count: CInt = 2) {
        #if canImport(Glibc)
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(dlopen(nil, RTLD_NOW), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (CInt, CInt) -> CInt).self)
        _ = mallopt(arenaMaxParameter, count)
        #endif
    }
}
