using System.Net;
using System.Security.Claims;
using Downloads.Api.Access;

namespace Downloads.Api.Protection;

/// <summary>Who a limit counts a request against: its API key where it has one, else its IP address.</summary>
public static class ClientKeys
{
    /// <summary><c>key:{name}</c>, or the client's IP address (the forwarded one behind a trusted proxy).</summary>
    public static string Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return Of(http.User, http.Connection.RemoteIpAddress);
    }

    /// <summary>The same for a caller known by its principal and address (a hub connection).</summary>
    public static string Of(ClaimsPrincipal? user, IPAddress? address) =>
        user?.ApiKeyName() is { } name ? $"key:{name}" : address?.ToString() ?? "unknown";
}
