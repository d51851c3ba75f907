using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Downloads.Api.Http;

/// <summary>
/// The service's problem+json answers (RFC 9457). They go through MVC's <see cref="ProblemDetailsFactory"/>,
/// so every one gets the same <c>type</c>, <c>request_id</c> and content type.
/// </summary>
public static class Problems
{
    public static ObjectResult ProblemResult(this ControllerBase controller, int status, string title, string detail) =>
        controller.Problem(detail, statusCode: status, title: title);

    public static ObjectResult Validation(this ControllerBase controller, IDictionary<string, string[]> errors, string detail = "The request has invalid fields.") =>
        Validation(controller.HttpContext, errors, detail);

    public static ObjectResult Validation(HttpContext httpContext, IDictionary<string, string[]> errors, string detail)
    {
        var modelState = new ModelStateDictionary();
        foreach (var (field, messages) in errors)
        {
            foreach (var message in messages)
            {
                modelState.AddModelError(field, message);
            }
        }

        var problem = httpContext.RequestServices.GetRequiredService<ProblemDetailsFactory>()
            .CreateValidationProblemDetails(httpContext, modelState, StatusCodes.Status400BadRequest, "Invalid request", detail: detail);
        return new ObjectResult(problem) { StatusCode = StatusCodes.Status400BadRequest };
    }

    public static ObjectResult JobNotFound(this ControllerBase controller, Guid jobId) =>
        controller.ProblemResult(StatusCodes.Status404NotFound, "Job not found", $"No download job {jobId} exists (or it has expired).");

    public static ObjectResult MalformedJobId(this ControllerBase controller, string jobId) =>
        controller.Validation(
            new Dictionary<string, string[]> { ["job_id"] = ["must be a UUID such as 3f0c2b9e-8d2a-4c1e-9f55-0b6d2a1c7e44"] },
            $"'{(jobId.Length <= 64 ? jobId : jobId[..64] + "…")}' is not a job id.");

    /// <summary>Writes a problem+json answer from outside MVC (middleware, authentication handlers).</summary>
    public static async Task WriteAsync(HttpContext httpContext, int status, string title, string detail)
    {
        httpContext.Response.StatusCode = status;
        await httpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    public static ObjectResult JobStateConflict(this ControllerBase controller, string detail) =>
        controller.ProblemResult(StatusCodes.Status409Conflict, "Not allowed in the job's current state", detail);
}
