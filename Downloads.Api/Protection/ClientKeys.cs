using Downloads.Api.Access;

namespace Downloads.Api.Protection;

/// <summary>Who a limit counts a request against: its API key where it has one, else its IP address.</summary>
public static class ClientKeys
{
    /// <summary><c>key:{name}</c>, or the client's IP address (the forwarded one behind a trusted proxy).</summary>
    public static string Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.User.ApiKeyName() is { } name ? $"key:{name}" : http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }
}
