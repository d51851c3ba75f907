using System.Text.Json;
using System.Text.Json.Serialization;

namespace Downloads.Client;

/// <summary>The service's JSON: snake_case names, lowercase enum strings.</summary>
internal static class ClientJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
