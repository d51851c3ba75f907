using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Tests.Infrastructure;

/// <summary>
/// A hub filter that notes the transport of every connection as the server saw it, which the .NET client does not
/// expose: <c>app.WithServices(s =&gt; s.Configure&lt;HubOptions&gt;(o =&gt; o.AddFilter(recorder)))</c>.
/// </summary>
public sealed class HubTransportRecorder : IHubFilter
{
    private readonly ConcurrentQueue<HttpTransportType> _transports = new();

    public IReadOnlyList<HttpTransportType> Transports => [.. _transports];

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (context.Context.Features.Get<IHttpTransportFeature>() is { } transport)
        {
            _transports.Enqueue(transport.TransportType);
        }

        return next(context);
    }

    /// <summary>Registers this recorder on <paramref name="app"/>'s hub.</summary>
    public DownloadsApplication AddTo(DownloadsApplication app) =>
        app.WithServices(services => services.Configure<HubOptions>(options => options.AddFilter(this)));
}
