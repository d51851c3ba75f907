using Downloads.Contracts;

namespace Downloads.Api.Downloads;

/// <summary>The rules of an initiate request, with errors keyed by the JSON path of the offending field.</summary>
public static class InitiateRequestValidator
{
    public const long MinFileId = 10_000;
    public const long MaxFileId = 100_000_000;
    public const int MaxFilesPerJob = 1000;
    public const int MaxCallbackUrlLength = 2048;
    public const int MaxIdempotencyKeyLength = 255;

    public static Dictionary<string, string[]> Validate(InitiateDownloadRequest request, string? idempotencyKey)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateFileIds(request.FileIds, errors);

        if (request.CallbackUrl is not null && CallbackUrlError(request.CallbackUrl) is { } callbackError)
        {
            errors["callback_url"] = [callbackError];
        }

        if (idempotencyKey is not null && !IsValidIdempotencyKey(idempotencyKey))
        {
            errors["Idempotency-Key"] = [$"must be 1 to {MaxIdempotencyKeyLength} visible ASCII characters"];
        }

        return errors;
    }

    public static string? FileIdError(long fileId) =>
        fileId is < MinFileId or > MaxFileId ? $"must be between {MinFileId} and {MaxFileId}" : null;

    private static void ValidateFileIds(IReadOnlyList<long>? fileIds, Dictionary<string, string[]> errors)
    {
        if (fileIds is null)
        {
            errors["file_ids"] = ["is required"];
            return;
        }

        if (fileIds.Count is 0 or > MaxFilesPerJob)
        {
            errors["file_ids"] = [$"must hold 1 to {MaxFilesPerJob} file ids (it holds {fileIds.Count})"];
            return;
        }

        var firstIndexOf = new Dictionary<long, int>();
        for (var i = 0; i < fileIds.Count; i++)
        {
            if (FileIdError(fileIds[i]) is { } rangeError)
            {
                errors[$"file_ids[{i}]"] = [rangeError];
            }
            else if (!firstIndexOf.TryAdd(fileIds[i], i))
            {
                errors[$"file_ids[{i}]"] = [$"duplicates file_ids[{firstIndexOf[fileIds[i]]}]"];
            }
        }
    }

    private static string? CallbackUrlError(string callbackUrl)
    {
        if (callbackUrl.Length > MaxCallbackUrlLength)
        {
            return $"must be at most {MaxCallbackUrlLength} characters";
        }

        if (!Uri.TryCreate(callbackUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            return "must be an absolute http or https URL";
        }

        return uri.UserInfo.Length > 0 ? "must not carry credentials" : null;
    }

    private static bool IsValidIdempotencyKey(string key) =>
        key.Length is > 0 and <= MaxIdempotencyKeyLength && key.All(c => c is > ' ' and < (char)127);
}
