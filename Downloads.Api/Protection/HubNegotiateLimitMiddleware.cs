using System.Globalization;
using Downloads.Api.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace Downloads.Api.Protection;

/// <summary>
/// A hub <c>negotiate</c> from a client that already holds its connection limit is a 429 with <c>Retry-After</c>,
/// before a connection is set up only to be closed. <see cref="HubConnectionLimitFilter"/> stays the rule that counts
/// (clients may skip negotiation, and two negotiations may race for the last place).
/// </summary>
public sealed class HubNegotiateLimitMiddleware(RequestDelegate next, ClientConnections connections)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<NegotiateMetadata>() is not null
            && endpoint.Metadata.GetMetadata<HubMetadata>() is not null
            && connections.IsFull(ClientKeys.Of(context)))
        {
            context.Response.Headers.RetryAfter = EventStreamLimitFilter.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many connections", EventStreamLimitFilter.RefusedDetail);
            return;
        }

        await next(context);
    }
}
