using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Downloads.Tests.Infrastructure;
using System.Text.RegularExpressions;

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
    [InlineData("Production", false, null, null, HttpStatusCode.Unauthorized)]
    [InlineData("Production", false, "203.0.113.9", null, HttpStatusCode.Unauthorized)]
    [InlineData("Development", false, null, null, HttpStatusCode.OK)]
    [InlineData("Development", false, "203.0.113.9", null, HttpStatusCode.Unauthorized)]
    [InlineData("Production", true, null, null, HttpStatusCode.Unauthorized)]
    [InlineData("Production", true, "203.0.113.9", "ops:secret-password", HttpStatusCode.OK)]
    [InlineData("Development", true, null, null, HttpStatusCode.OK)]
    [InlineData("Development", true, "203.0.113.9", null, HttpStatusCode.Unauthorized)]
    [InlineData("Development", true, "203.0.113.9", "ops:secret-password", HttpStatusCode.OK)]
    public async Task Local_requests_need_no_credentials_in_development_only_and_remote_ones_always_do(
        string environment, bool credentialsConfigured, string? forwardedFor, string? credentials, HttpStatusCode expected)
    {
        await using var app = new DownloadsApplication()
            .InEnvironment(environment)
            .With("Downloads:Dashboard:Username", credentialsConfigured ? "ops" : null)
            .With("Downloads:Dashboard:Password", credentialsConfigured ? "secret-password" : null);
        var http = app.CreateApiClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        if (forwardedFor is not null)
        {
            // Through the trusted (loopback) proxy: the client's address is the forwarded one.
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        using var response = await http.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(expected);
    }

    [Fact]
    public async Task A_dashboard_command_without_an_antiforgery_token_is_refused()
    {
        await using var app = new DownloadsApplication().With("Downloads:Dashboard:ReadOnly", "false");
        var http = app.CreateApiClient();

        using var requeue = await http.PostAsync("/hangfire/jobs/succeeded/requeue", new FormUrlEncodedContent([])).DefaultTimeout();

        requeue.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("Production", true)]
    [InlineData("Development", false)]
    public async Task The_dashboard_is_read_only_by_default_outside_development(string environment, bool readOnly)
    {
        await using var app = new DownloadsApplication()
            .InEnvironment(environment)
            .With("Downloads:Dashboard:Username", "ops")
            .With("Downloads:Dashboard:Password", "secret-password");
        var http = app.CreateApiClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("ops:secret-password"u8.ToArray()));

        using var requeue = await PostCommandAsync(http, "/hangfire/jobs/succeeded/requeue");

        requeue.StatusCode.Should().Be(readOnly ? HttpStatusCode.Unauthorized : HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Hangfire_runs_are_named_with_their_download_jobs()
    {
        await using var app = new DownloadsApplication();
        var api = new DownloadsApi(app.CreateApiClient());
        var job = await api.InitiateAsync([70000]);
        await api.WaitForEndAsync(job.JobId);

        // The run may wait a moment for new jobs (IdleLinger) before it succeeds.
        var name = $"Run of download job(s) {job.JobId:D}";
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        var page = "";
        while (!page.Contains(name, StringComparison.Ordinal) && !deadline.IsCancellationRequested)
        {
            await Task.Delay(100, CancellationToken.None);
            page = await api.Http.GetStringAsync("/hangfire/jobs/succeeded").DefaultTimeout();
        }

        page.Should().Contain(name);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_read_only_dashboard_refuses_commands(bool readOnly)
    {
        await using var app = new DownloadsApplication().With("Downloads:Dashboard:ReadOnly", readOnly ? "true" : "false");
        var http = app.CreateApiClient();

        using var requeue = await PostCommandAsync(http, "/hangfire/jobs/succeeded/requeue");

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

    // A command as the dashboard's own page posts it: with the antiforgery token the page carries (and its cookie).
    private static async Task<HttpResponseMessage> PostCommandAsync(HttpClient http, string path)
    {
        var page = await http.GetStringAsync("/hangfire").DefaultTimeout();
        var header = Regex.Match(page, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = Regex.Match(page, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value;
        header.Should().NotBeEmpty("the dashboard page carries its antiforgery token");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add(WebUtility.HtmlDecode(header), WebUtility.HtmlDecode(token));
        return await http.SendAsync(request).DefaultTimeout();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string credentials)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        return http.SendAsync(request).DefaultTimeout();
    }
}
