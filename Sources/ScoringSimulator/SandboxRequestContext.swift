import Hummingbird
import NIOCore

/// The request context of the sandbox's routes: Hummingbird's basics plus the connection, so an outage can drop it.
public struct SandboxRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    let channel: any Channel

    /// A context for a request on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        channel = source.channel
    }
}
