using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Downloads.Api.Operations;
using Downloads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace Downloads.Tests.Operations;

/// <summary><c>/hangfire</c>: who gets in, where, and that jobs are named for what they do.</summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task Outside_development_the_dashboard_asks_for_credentials_and_accepts_them()
    {
        await using var app = new DownloadsApplication()
            .InEnvironment("Production")
            .With("Downloads:Dashboard:Username", "ops")
            .With("Downloads:Dashboard:Password", "correct horse battery staple");
        var http = app.CreateApiClient();

        using var anonymous = await http.GetAsync("/hangfire").DefaultTimeout();
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a local request is not enough outside Development once credentials exist");
        anonymous.Headers.WwwAuthenticate.Should().ContainSingle(h => h.Scheme == "Basic");

        using var wrong = await SendAsync(http, "/hangfire", "ops:guess");
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        using var authorized = await SendAsync(http, "/hangfire", "ops:correct horse battery staple");
        authorized.StatusCode.Should().Be(HttpStatusCode.OK);
        (await authorized.Content.ReadAsStringAsync()).Should().Contain("Downloads — jobs");
    }

    [Theory]
    [InlineData("Production", false, "127.0.0.1", null, true)]
    [InlineData("Production", false, "203.0.113.9", null, false)]
    [InlineData("Development", false, "203.0.113.9", null, false)]
    [InlineData("Production", true, "127.0.0.1", null, false)]
    [InlineData("Production", true, "203.0.113.9", "ops:secret-password", true)]
    [InlineData("Development", true, "127.0.0.1", null, true)]
    [InlineData("Development", true, "203.0.113.9", null, false)]
    public void The_filter_admits_local_requests_without_credentials_and_remote_ones_only_with_them(
        string environment, bool credentialsConfigured, string remoteAddress, string? credentials, bool admitted)
    {
        var options = new DashboardAccessOptions
        {
            Username = credentialsConfigured ? "ops" : null,
            Password = credentialsConfigured ? "secret-password" : null,
        };
        var filter = new DashboardAuthorizationFilter(Options.Create(options), new HostingEnvironment { EnvironmentName = environment });
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(remoteAddress);
        http.Connection.LocalIpAddress = IPAddress.Parse("10.0.0.2");
        if (credentials is not null)
        {
            http.Request.Headers.Authorization = $"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials))}";
        }

        filter.Authorize(http).Should().Be(admitted);
    }

    [Fact]
    public async Task Hangfire_runs_are_named_with_their_download_jobs()
    {
        await using var app = new DownloadsApplication();
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000]);
        await api.WaitForEndAsync(job.JobId);

        var page = await api.Http.GetStringAsync("/hangfire/jobs/succeeded").DefaultTimeout();

        page.Should().Contain($"Run of download job(s) {job.JobId:D}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_read_only_dashboard_refuses_commands(bool readOnly)
    {
        await using var app = new DownloadsApplication().With("Downloads:Dashboard:ReadOnly", readOnly ? "true" : "false");
        var http = app.CreateApiClient();

        using var requeue = await http.PostAsync("/hangfire/jobs/succeeded/requeue", new FormUrlEncodedContent([])).DefaultTimeout();

        if (readOnly)
        {
            requeue.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "Hangfire refuses commands on a read-only dashboard");
        }
        else
        {
            // The command is considered, and refused only for naming no job.
            requeue.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string credentials)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http.SendAsync(request).DefaultTimeout();
    }
}
