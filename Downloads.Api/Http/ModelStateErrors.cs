using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Downloads.Api.Http;

/// <summary>Model binding errors keyed like the contract's: <c>file_ids[3]</c>, not <c>$.file_ids[3]</c>.</summary>
public static class ModelStateErrors
{
    public static Dictionary<string, string[]> ToContractErrors(ModelStateDictionary modelState)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (key, entry) in modelState)
        {
            if (entry.Errors.Count == 0)
            {
                continue;
            }

            var field = key.StartsWith("$.", StringComparison.Ordinal) ? key[2..] : key is "$" or "" or "request" ? "body" : key;
            errors[field] = [.. entry.Errors.Select(e => Describe(field, e))];
        }

        return errors;
    }

    // System.Text.Json's messages name CLR types; say what the client must send instead.
    private static string Describe(string field, ModelError error)
    {
        if (field == "body")
        {
            return error.ErrorMessage.Contains("non-empty", StringComparison.Ordinal)
                ? "a JSON object is required"
                : "must be a valid JSON object";
        }

        return error.Exception is not null || error.ErrorMessage.Contains("could not be converted", StringComparison.Ordinal)
            ? field.EndsWith(']') || field.EndsWith("_id", StringComparison.Ordinal) ? "must be an integer" : "has the wrong JSON type"
            : error.ErrorMessage;
    }
}
