using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Operations;

/// <summary>A misconfigured node refuses to start, saying which setting is wrong.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Downloads:Links:SigningKey")]
    [InlineData("Downloads:Webhooks:SigningSecret")]
    public async Task Production_refuses_to_start_without_a_signing_secret(string setting)
    {
        await using var app = new DownloadsApplication().InEnvironment("Production").With(setting, null);

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain($"{setting} is required outside Development");
    }

    [Fact]
    public async Task A_dashboard_user_without_a_password_is_refused_at_start()
    {
        await using var app = new DownloadsApplication().InEnvironment("Production").With("Downloads:Dashboard:Username", "ops");

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain("Downloads:Dashboard:Username and Downloads:Dashboard:Password must be set together");
    }
}
