using Microsoft.AspNetCore.Mvc;

namespace Downloads.Api.Http;

/// <summary>The service's problem+json answers (RFC 9457), one place for their shape.</summary>
public static class Problems
{
    public static ObjectResult Result(int status, string title, string detail) =>
        new(new ProblemDetails { Status = status, Title = title, Detail = detail }) { StatusCode = status };

    public static ObjectResult Validation(IDictionary<string, string[]> errors, string detail = "The request has invalid fields.") =>
        new(new ValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest, Title = "Invalid request", Detail = detail })
        {
            StatusCode = StatusCodes.Status400BadRequest,
        };

    public static ObjectResult JobNotFound(Guid jobId) =>
        Result(StatusCodes.Status404NotFound, "Job not found", $"No download job {jobId} exists (or it has expired).");

    public static ObjectResult MalformedJobId(string jobId) =>
        Validation(new Dictionary<string, string[]> { ["job_id"] = ["must be a UUID such as 3f0c2b9e-8d2a-4c1e-9f55-0b6d2a1c7e44"] }, $"'{Truncate(jobId)}' is not a job id.");

    public static ObjectResult Conflict(string detail) =>
        Result(StatusCodes.Status409Conflict, "Not allowed in the job's current state", detail);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
