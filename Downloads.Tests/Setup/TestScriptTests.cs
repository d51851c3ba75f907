using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Setup;

/// <summary>
/// The README's test command (<c>./test.sh</c>) sets a fresh machine up itself. Its <c>--check</c> mode lists what it
/// finds and what it would install, without installing or running anything.
/// </summary>
public sealed class TestScriptTests
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(30);

    // The tools this test run itself depends on: a machine that runs these tests has them all.
    [Theory]
    [InlineData("redis-server")]
    [InlineData("redis-cli")]
    [InlineData("nginx")]
    [InlineData("chromium")]
    [InlineData("node")]
    [InlineData("npm")]
    public async Task Check_mode_finds_each_tool_this_machine_has(string tool)
    {
        var (exitCode, output) = await ExternalCommand.RunAsync("bash", "test.sh --check", RepositoryFiles.Root, ScriptTimeout);

        exitCode.Should().Be(0, output);
        output.Should().MatchRegex($"(?m)^found +{tool}: /", output);
    }

    [Fact]
    public async Task Check_mode_has_nothing_to_install_where_the_tests_run()
    {
        var (exitCode, output) = await ExternalCommand.RunAsync("bash", "test.sh --check", RepositoryFiles.Root, ScriptTimeout);

        exitCode.Should().Be(0, output);
        output.Should().Contain("nothing to install").And.NotContain("missing ");
    }

    [Fact]
    public async Task Check_mode_names_the_install_line_for_a_missing_tool()
    {
        // An empty PATH but for bash's own folder: every tool is missing, and the script says what it would run.
        var (exitCode, output) = await ExternalCommand.RunAsync(
            "env", "PATH=/nonexistent /bin/bash test.sh --check", RepositoryFiles.Root, ScriptTimeout);

        exitCode.Should().Be(0, output);
        output.Should().Contain("missing redis-server (Debian package redis-server)")
            .And.Contain("would run: apt-get install -y --no-install-recommends redis-server redis-tools nginx chromium nodejs npm");
    }
}
