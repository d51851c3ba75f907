using System.Text;

namespace Downloads.Tests.Infrastructure;

/// <summary>One parsed Server-Sent Event.</summary>
public sealed record ServerSentEvent(string? Id, string? Event, string Data);

/// <summary>Reads a <c>text/event-stream</c> body the way EventSource does (comments skipped).</summary>
public static class ServerSentEvents
{
    public static async Task<IReadOnlyList<ServerSentEvent>> ReadAllAsync(HttpResponseMessage response)
    {
        var events = new List<ServerSentEvent>();
        await foreach (var e in ReadAsync(response).WithCancellation(default))
        {
            events.Add(e);
        }

        return events;
    }

    public static async IAsyncEnumerable<ServerSentEvent> ReadAsync(HttpResponseMessage response)
    {
        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return new ServerSentEvent(id, type, data.ToString());
                }

                (id, type) = (null, null);
                data.Clear();
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }
    }
}
