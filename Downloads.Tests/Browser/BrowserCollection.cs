namespace Downloads.Tests.Browser;

/// <summary>The browser tests run one class at a time: two chromiums at once on two cores make timings flaky.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection
{
    public const string Name = "Browser";
}
