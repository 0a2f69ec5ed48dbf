using System;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbCore.AspNetCore;

/// <summary>
/// DbCore's typed errors as HTTP answers: unique and foreign-key violations 409, transient failures that DbCore's retries
/// did not overcome and an exhausted pool 503 with <c>Retry-After</c>, a command timeout 504, anything else 500. The body
/// is an RFC 9457 problem; it carries the SQLSTATE, the constraint (for 409) and the attempts, never the server's message
/// text for a 5xx (it can name tables and values) and never a connection string.
/// </summary>
public static class DbCoreProblemDetails
{
    /// <summary>The status code for <paramref name="exception"/>.</summary>
    /// <param name="exception">A DbCore error.</param>
    public static int StatusCodeOf(DbCoreException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            UniqueViolationException or ForeignKeyViolationException => StatusCodes.Status409Conflict,
            CommandTimeoutException => StatusCodes.Status504GatewayTimeout,
            PoolExhaustedException => StatusCodes.Status503ServiceUnavailable,
            { IsTransient: true } => StatusCodes.Status503ServiceUnavailable,
            _ => StatusCodes.Status500InternalServerError,
        };
    }

    /// <summary>The problem for <paramref name="exception"/>.</summary>
    /// <param name="exception">A DbCore error.</param>
    /// <param name="handlerAttempts">How many times the request's handler ran (1 unless the unit of work retried it).</param>
    public static ProblemDetails Create(DbCoreException exception, int handlerAttempts = 1)
    {
        int status = StatusCodeOf(exception);
        var problem = new ProblemDetails
        {
            Status = status,
            Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15." + (status < 500 ? "5." + (status - 399).ToString(CultureInfo.InvariantCulture) : "6." + (status - 499).ToString(CultureInfo.InvariantCulture)),
            Title = exception switch
            {
                UniqueViolationException => "The data conflicts with an existing row (a unique key is taken).",
                ForeignKeyViolationException => "The data refers to a row that does not exist, or is still referred to.",
                CommandTimeoutException => "The database did not answer in time.",
                PoolExhaustedException => "The database is busy: no connection became free in time. Try again later.",
                { IsTransient: true } => "The database is unavailable or busy. Try again later.",
                _ => "The request failed in the database.",
            },
        };
        problem.Extensions["error"] = exception.GetType().Name;
        if (exception.SqlState is { } sqlState)
        {
            problem.Extensions["sqlState"] = sqlState;
        }

        if (status == StatusCodes.Status409Conflict && exception.ConstraintName is { } constraint)
        {
            problem.Extensions["constraint"] = constraint;
        }

        problem.Extensions["attempts"] = exception.Attempts;
        if (handlerAttempts > 1)
        {
            problem.Extensions["handlerAttempts"] = handlerAttempts;
        }

        return problem;
    }

    /// <summary>Writes the problem of <paramref name="exception"/> as the response (with <c>Retry-After</c> for 503).</summary>
    /// <param name="exception">A DbCore error.</param>
    /// <param name="retryAfterSeconds">The <c>Retry-After</c> of a 503.</param>
    /// <param name="handlerAttempts">How many times the request's handler ran.</param>
    public static IResult ToResult(DbCoreException exception, int retryAfterSeconds = 1, int handlerAttempts = 1)
        => new ProblemResult(Create(exception, handlerAttempts), retryAfterSeconds);

    /// <summary>DbCore's own error, or a provider error from a raw command on the session typed the same way; else null.</summary>
    internal static DbCoreException? Typed(DbSession session, Exception exception)
        => exception as DbCoreException ?? Infrastructure.QuerySupport.Translate(session, exception) as DbCoreException;

    /// <summary>Logs a DbCore error the filter answers as a problem (see <see cref="Log.ProblemAnswered"/>).</summary>
    internal static void Report(HttpContext http, DbCoreException failure, int handlerAttempts)
    {
        ILogger? logger = http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(Log.Category);
        if (logger is null)
        {
            return;
        }

        int status = StatusCodeOf(failure);
        LogLevel level = status switch
        {
            StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout => LogLevel.Warning,
            >= 500 => LogLevel.Error,
            _ => LogLevel.Information,
        };
        if (logger.IsEnabled(level))
        {
            string endpoint = http.GetEndpoint()?.DisplayName ?? http.Request.Method;
            Log.ProblemAnswered(logger, level, level >= LogLevel.Warning ? failure : null, endpoint, status, failure.GetType().Name, failure.SqlState, handlerAttempts);
        }
    }

    /// <summary>Sets <c>Retry-After</c> on a 503 answer.</summary>
    internal static void AddRetryAfter(HttpResponse response, int status, int retryAfterSeconds)
    {
        if (status == StatusCodes.Status503ServiceUnavailable && retryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }
    }

    private sealed class ProblemResult(ProblemDetails problem, int retryAfterSeconds) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => problem.Status;

        public System.Threading.Tasks.Task ExecuteAsync(HttpContext httpContext)
        {
            AddRetryAfter(httpContext.Response, problem.Status ?? 500, retryAfterSeconds);
            return Results.Problem(problem).ExecuteAsync(httpContext);
        }
    }
}
