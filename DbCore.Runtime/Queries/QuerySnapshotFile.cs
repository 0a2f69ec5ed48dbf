using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace DbCore.Infrastructure;

/// <summary>
/// Writes or checks <c>dbcore.queries.json</c> for one session's entries, keeping the entries of other sessions (one file
/// serves every accessor of a project).
/// </summary>
internal static class QuerySnapshotFile
{
    private const string RewriteFix = "rewrite the snapshot: run the verification with QuerySnapshotMode.Write (e.g. DBCORE_UPDATE_SNAPSHOTS=1 dotnet test ...) and commit the file.";

    /// <summary>Writes the file (<see cref="QuerySnapshotMode.Write"/>) or adds a mismatch per stale entry (<see cref="QuerySnapshotMode.Check"/>).</summary>
    public static void Apply(string path, QuerySnapshotMode mode, string session, List<SnapshotEntry> entries, List<QueryMismatch> mismatches)
    {
        string fullPath = Path.GetFullPath(path);
        string? existingText = File.Exists(fullPath) ? File.ReadAllText(fullPath).Replace("\r\n", "\n", StringComparison.Ordinal) : null;
        List<SnapshotEntry> existing = new();
        string? unreadable = null;
        if (existingText is not null)
        {
            try
            {
                existing = QuerySnapshotFormat.Read(existingText);
            }
            catch (FormatException ex)
            {
                unreadable = ex.Message;
            }
        }

        string text = QuerySnapshotFormat.Write(existing.Where(e => e.Session != session).Concat(entries));
        if (text == existingText)
        {
            return;
        }

        if (mode == QuerySnapshotMode.Write)
        {
            string? directory = Path.GetDirectoryName(fullPath);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            File.WriteAllText(fullPath, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }

        string shortSession = session.Substring(session.LastIndexOf('.') + 1);
        int before = mismatches.Count;
        if (existingText is null || unreadable is not null)
        {
            string problem = existingText is null ? $"the query snapshot {fullPath} does not exist." : $"the query snapshot {fullPath} cannot be read: {unreadable}.";
            mismatches.Add(new QueryMismatch(shortSession, string.Empty, null, null, problem, RewriteFix));
            return;
        }

        var old = existing.Where(e => e.Session == session).GroupBy(e => e.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var current = new HashSet<string>(entries.Select(e => e.Key), StringComparer.Ordinal);
        foreach (SnapshotEntry entry in entries)
        {
            string method = shortSession + "." + entry.Method;
            if (!old.TryGetValue(entry.Key, out List<SnapshotEntry>? recorded))
            {
                mismatches.Add(new QueryMismatch(method, entry.Sql, null, null, $"the query snapshot {fullPath} has no entry for this SQL (a new or edited query).", RewriteFix));
            }
            else if (!recorded.Any(r => QuerySnapshotFormat.WriteEntry(r) == QuerySnapshotFormat.WriteEntry(entry)))
            {
                mismatches.Add(new QueryMismatch(method, entry.Sql, null, null, $"the entry in the query snapshot {fullPath} differs from what the database describes now (the schema changed).", RewriteFix));
            }
        }

        foreach (SnapshotEntry gone in existing.Where(e => e.Session == session && !current.Contains(e.Key)))
        {
            mismatches.Add(new QueryMismatch(shortSession + "." + gone.Method, gone.Sql, null, null, $"the query snapshot {fullPath} has an entry for SQL no [Query] method of the session has now.", RewriteFix));
        }

        if (mismatches.Count == before)
        {
            mismatches.Add(new QueryMismatch(shortSession, string.Empty, null, null, $"the query snapshot {fullPath} is not laid out as VerifyQueriesAsync writes it.", RewriteFix));
        }
    }
}
