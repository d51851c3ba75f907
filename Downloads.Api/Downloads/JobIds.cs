namespace Downloads.Api.Downloads;

/// <summary>Job ids are hyphenated UUIDs (<c>3f0c2b9e-8d2a-4c1e-9f55-0b6d2a1c7e44</c>).</summary>
public static class JobIds
{
    public static bool TryParse(string? value, out Guid jobId) => Guid.TryParseExact(value, "D", out jobId);
}
