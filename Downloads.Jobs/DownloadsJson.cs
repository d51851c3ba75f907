using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Downloads.Jobs;

/// <summary>
/// The one JSON shape of the service: snake_case names, lowercase enum strings.
/// Every process that writes JSON (REST, SignalR through the backplane, SSE, webhooks, Redis) uses it.
/// </summary>
public static class DownloadsJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.Converters.Add(new UtcTimestampConverter());
        options.NumberHandling = JsonNumberHandling.Strict;
        return options;
    }

    /// <summary>Times are ISO 8601 UTC with <c>Z</c>, to the millisecond.</summary>
    private sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}
