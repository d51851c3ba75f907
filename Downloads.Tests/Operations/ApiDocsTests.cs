using System.Net;
using System.Text.Json;
using Downloads.Tests.Infrastructure;

namespace Downloads.Tests.Operations;

/// <summary><c>/openapi/v1.json</c> describes every contract route with its problem answers; <c>/scalar</c> renders it.</summary>
public sealed class ApiDocsTests : IClassFixture<DownloadsApplication>
{
    private readonly HttpClient _http;

    public ApiDocsTests(DownloadsApplication app) => _http = app.CreateApiClient();

    [Theory]
    [InlineData("/v1/download/initiate", "post", new[] { "202", "400", "401", "413", "415", "422", "429" })]
    [InlineData("/v1/download/status/{jobId}", "get", new[] { "200", "400", "401", "404" })]
    [InlineData("/v1/download/result/{jobId}", "get", new[] { "200", "202", "404" })]
    [InlineData("/v1/download/{jobId}", "delete", new[] { "202", "404", "409" })]
    [InlineData("/v1/download/{jobId}/pause", "post", new[] { "202", "404", "409" })]
    [InlineData("/v1/download/{jobId}/resume", "post", new[] { "202", "404", "409" })]
    [InlineData("/v1/download/events/{jobId}", "get", new[] { "200", "401", "404", "429" })]
    [InlineData("/v1/download/check", "post", new[] { "200", "400", "401", "413" })]
    [InlineData("/v1/files/{fileId}", "get", new[] { "200", "206", "403", "410" })]
    [InlineData("/v1/download/{jobId}/retry", "post", new[] { "202", "400", "404", "409", "429" })]
    [InlineData("/v1/archives/{jobId}", "get", new[] { "200", "400", "403", "404", "410" })]
    public async Task The_document_lists_each_contract_route_with_its_answers(string path, string method, string[] statuses)
    {
        var document = await DocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        var responses = operation.GetProperty("responses");
        foreach (var status in statuses)
        {
            responses.TryGetProperty(status, out _).Should().BeTrue($"{method} {path} documents {status}");
        }

        foreach (var problem in statuses.Where(s => s[0] is '4' or '5'))
        {
            responses.GetProperty(problem).GetProperty("content").TryGetProperty("application/problem+json", out _)
                .Should().BeTrue($"{method} {path} {problem} is a problem+json answer");
        }
    }

    [Fact]
    public async Task The_document_declares_the_bearer_security_scheme()
    {
        var document = await DocumentAsync();

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        scheme.GetProperty("type").GetString().Should().Be("http");
        scheme.GetProperty("scheme").GetString().Should().Be("bearer");
        document.GetProperty("security")[0].TryGetProperty("bearer", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Schemas_use_the_wire_names()
    {
        var document = await DocumentAsync();

        var schemas = document.GetProperty("components").GetProperty("schemas");
        schemas.GetProperty("InitiateDownloadRequest").GetProperty("properties").EnumerateObject().Select(p => p.Name)
            .Should().BeEquivalentTo("file_ids", "callback_url");
        schemas.GetProperty("InitiateDownloadResponse").GetProperty("properties").TryGetProperty("job_id", out _).Should().BeTrue();
    }

    [Fact]
    public async Task The_document_describes_the_hub_and_its_replay()
    {
        var document = await DocumentAsync();

        document.GetProperty("info").GetProperty("description").GetString().Should()
            .Contain("SubscribeFrom(job_id, last_seq)").And.Contain("?last_seq=N").And.Contain("`update`");
    }

    [Fact]
    public async Task The_reference_ui_is_served_beside_it()
    {
        using var response = await _http.GetAsync("/scalar").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
    }

    private async Task<JsonElement> DocumentAsync()
    {
        using var response = await _http.GetAsync("/openapi/v1.json").DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
