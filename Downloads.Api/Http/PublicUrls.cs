namespace Downloads.Api.Http;

/// <summary>
/// Absolute URLs as the client sees the service: scheme and host of the request, which the forwarded
/// headers middleware has already taken from trusted proxies (<c>X-Forwarded-Proto</c>/<c>-Host</c>).
/// </summary>
public static class PublicUrls
{
    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    public static string WebSocketBaseUrl(HttpRequest request) =>
        $"{(request.IsHttps ? "wss" : "ws")}://{request.Host}{request.PathBase}";
}
