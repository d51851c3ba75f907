using Downloads.Api;
using Downloads.Api.Access;
using Downloads.Api.Http;
using Downloads.Api.Operations;
using Downloads.Api.Protection;
using Downloads.Api.Realtime;
using Downloads.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.UseDownloadsDefaults();
var role = builder.Configuration.GetNodeRole();

builder.Services
    .AddDownloadsJobs(builder.Configuration)
    .AddDownloadsRealtime(builder.Configuration)
    .AddDownloadsHttp(builder.Configuration)
    .AddDownloadsAccess()
    .AddDownloadsOperations(builder.Configuration, role)
    .AddDownloadsTelemetry(builder.Configuration, role)
    .AddDownloadsProtection(builder.Configuration);
if (role.RunsJobs())
{
    builder.Services.AddDownloadsWorker();
}

var app = builder.Build();
app.UseDownloadsHttp();
app.UseDownloadsProtection();
if (role.ServesApi())
{
    app.UseDefaultFiles();
    app.UseStaticFiles();
    app.MapDownloadsApi();
    app.MapDownloadsRealtime();
    app.MapDownloadsDashboard();
}

app.MapDownloadsOperations();
app.WarnAboutDevelopmentSecrets();
app.Run();

/// <summary>The entry point; public so tests can host it.</summary>
public partial class Program;
