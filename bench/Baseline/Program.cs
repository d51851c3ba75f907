using System.Text.Json;
using System.Text.Json.Serialization;

// The bare endpoint the initiate figures are compared with: same route, same body in and out, same 202 and
// Location, but no validation, no store, no queue. What ASP.NET Core itself costs on this machine.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default);
});

var app = builder.Build();
app.MapPost("/v1/download/initiate", (InitiateRequest request, HttpRequest http) =>
{
    var id = Guid.NewGuid().ToString("D");
    var baseUrl = $"{http.Scheme}://{http.Host}";
    return Results.Accepted($"/v1/download/status/{id}", new InitiateResponse(
        id, "queued", request.FileIds?.Count ?? 0,
        $"ws://{http.Host}/ws/download/{id}", $"{baseUrl}/ws/download/{id}", $"{baseUrl}/v1/download/status/{id}",
        $"{baseUrl}/v1/download/result/{id}", $"{baseUrl}/v1/download/events/{id}"));
});
app.MapGet("/health", () => Results.Ok());
app.Run();

internal sealed record InitiateRequest(List<long>? FileIds, string? CallbackUrl);

internal sealed record InitiateResponse(
    string JobId, string Status, int TotalFiles, string WebsocketUrl, string HubUrl, string StatusUrl, string ResultUrl, string EventsUrl);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(InitiateRequest))]
[JsonSerializable(typeof(InitiateResponse))]
internal sealed partial class BaselineJson : JsonSerializerContext;
