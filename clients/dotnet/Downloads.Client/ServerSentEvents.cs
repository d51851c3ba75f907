namespace Downloads.Client;

/// <summary>One event of a <c>text/event-stream</c>.</summary>
internal sealed record ServerSentEvent(string? Id, string Event, string Data);

internal static class ServerSentEvents
{
    /// <summary>Reads the stream's events until it ends.</summary>
    public static async IAsyncEnumerable<ServerSentEvent> ReadAsync(Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream);
        string? id = null;
        var type = "";
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    yield return new ServerSentEvent(id, type.Length > 0 ? type : "message", string.Join('\n', data));
                }

                type = "";
                data.Clear();
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            value = value.StartsWith(' ') ? value[1..] : value;
            switch (field)
            {
                case "data":
                    data.Add(value);
                    break;
                case "event":
                    type = value;
                    break;
                case "id":
                    id = value;
                    break;
            }
        }
    }
}
