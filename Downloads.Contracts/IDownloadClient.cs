namespace Downloads.Contracts;

/// <summary>The methods a SignalR client of the download hub receives.</summary>
public interface IDownloadClient
{
    /// <summary>Every event of a subscribed job arrives as <c>update</c>.</summary>
    /// <remarks>Lower case on purpose: a strongly typed hub sends the C# name as is, and the wire name is <c>update</c>.</remarks>
#pragma warning disable IDE1006 // Naming rule violation
    Task update(JobEvent jobEvent);
#pragma warning restore IDE1006
}
