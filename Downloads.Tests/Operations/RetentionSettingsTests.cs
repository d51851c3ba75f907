using Downloads.Jobs.Ledger;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Downloads.Tests.Operations;

/// <summary><c>Downloads:Retention</c> is validated at start, and the former <c>Downloads:Redis:RetentionHours</c> still counts.</summary>
public sealed class RetentionSettingsTests
{
    [Theory]
    [InlineData("Downloads:Retention:EndedJobs", "00:00:00", "EndedJobs")]
    [InlineData("Downloads:Retention:MaxJobAge", "-1.00:00:00", "MaxJobAge")]
    [InlineData("Downloads:Retention:MaxInMemoryFiles", "0", "MaxInMemoryFiles")]
    [InlineData("Downloads:Redis:RetentionHours", "0", "RetentionHours")]
    public async Task A_retention_out_of_range_is_refused_at_start(string setting, string value, string named)
    {
        await using var app = new DownloadsApplication().With(setting, value);

        var start = () => app.CreateApiClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain(named);
    }

    [Fact]
    public async Task The_former_whole_hour_setting_still_sets_the_retention_of_ended_jobs()
    {
        await using var app = new DownloadsApplication().With("Downloads:Redis:RetentionHours", "3");

        var retention = app.Services.GetRequiredService<IOptions<RetentionOptions>>().Value;

        retention.Ended.Should().Be(TimeSpan.FromHours(3));
    }

    [Fact]
    public async Task The_retention_of_ended_jobs_takes_a_duration_finer_than_hours()
    {
        await using var app = new DownloadsApplication().With("Downloads:Retention:EndedJobs", "00:00:30").With("Downloads:Redis:RetentionHours", "3");

        var retention = app.Services.GetRequiredService<IOptions<RetentionOptions>>().Value;

        retention.Ended.Should().Be(TimeSpan.FromSeconds(30), "the new setting wins over the former one");
    }
}
