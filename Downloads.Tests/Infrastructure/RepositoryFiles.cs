namespace Downloads.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (deploy configs, projects), found from the test binaries.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    /// <summary>The folder holding <c>Downloads.sln</c>.</summary>
    public static string Root => RootDirectory.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Downloads.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Downloads.sln above {AppContext.BaseDirectory}.");
    }
}
