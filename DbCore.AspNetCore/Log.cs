using Microsoft.Extensions.Logging;

namespace DbCore.AspNetCore;

/// <summary>DbCore.AspNetCore's log messages (category <c>DbCore.AspNetCore</c>).</summary>
internal static partial class Log
{
    /// <summary>The category of DbCore.AspNetCore's log messages.</summary>
    public const string Category = "DbCore.AspNetCore";

    /// <summary>
    /// A DbCore error answered as a problem: Error (exception attached) for a 5xx, Warning for 503 and 504, Information for a
    /// 4xx (a conflict is the client's). Nothing else logs it: no exception leaves the filter.
    /// </summary>
    [LoggerMessage(EventId = 100, EventName = "ProblemAnswered",
        Message = "{Endpoint} answered {Status} for {Error} (SQLSTATE {SqlState}) after {HandlerAttempts} handler attempt(s)")]
    public static partial void ProblemAnswered(ILogger logger, LogLevel level, System.Exception? exception, string endpoint, int status, string error, string? sqlState, int handlerAttempts);
}
