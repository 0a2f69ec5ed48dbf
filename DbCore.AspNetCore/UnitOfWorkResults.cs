using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;

namespace DbCore.AspNetCore;

/// <summary>What a handler's result says about its unit of work: its status, and whether it still reads when it runs.</summary>
internal static class UnitOfWorkResults
{
    /// <summary>2xx, or 3xx (a redirect after a write: post/redirect/get): the unit commits. 4xx and 5xx roll it back.</summary>
    public static bool IsSuccess(int status) => status is >= 200 and < 400;

    /// <summary>
    /// A minimal-API result's status: its own, that of the result a typed union (<c>Results&lt;T1, T2&gt;</c>) holds, 401 and
    /// 403 for <c>Challenge</c> and <c>Forbid</c> (they set theirs only when they run), else the response's (200 unless the
    /// handler set one).
    /// </summary>
    public static int StatusOf(object? result, HttpContext http)
    {
        result = Unwrap(result);
        return result switch
        {
            IStatusCodeHttpResult { StatusCode: { } code } => code,
            ForbidHttpResult => StatusCodes.Status403Forbidden,
            ChallengeHttpResult => StatusCodes.Status401Unauthorized,
            _ => http.Response.StatusCode,
        };
    }

    /// <summary>
    /// An MVC result's status, as <see cref="StatusOf(object?, HttpContext)"/>; an action that returned a minimal-API
    /// <see cref="IResult"/> (<c>TypedResults.NotFound()</c>, a <c>Results&lt;...&gt;</c> union) is judged by that result.
    /// </summary>
    public static int StatusOf(IActionResult? result, HttpContext http)
        => result switch
        {
            IStatusCodeActionResult { StatusCode: { } code } => code,
            ForbidResult => StatusCodes.Status403Forbidden,
            ChallengeResult => StatusCodes.Status401Unauthorized,
            not null when WrappedResult(result) is { } wrapped => StatusOf(wrapped, http),
            _ => http.Response.StatusCode,
        };

    /// <summary>
    /// The <see cref="IResult"/> MVC wrapped an action's minimal-API result in (its internal <c>HttpActionResult</c>, which
    /// exposes it as a public <c>Result</c> property and nothing else), or null.
    /// </summary>
    private static IResult? WrappedResult(IActionResult result)
        => s_wrapped.GetOrAdd(result.GetType(), static type => ResultProperty(type))?.GetValue(result) as IResult;

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "MVC, the only source of these wrappers, is not trim-compatible itself; a trimmed-away property reads as no wrapped result.")]
    private static PropertyInfo? ResultProperty(Type type)
    {
        try
        {
            return type.GetProperty("Result", BindingFlags.Public | BindingFlags.Instance) is { } property && property.PropertyType == typeof(IResult) ? property : null;
        }
        catch (AmbiguousMatchException)
        {
            return null; // several properties of that name: not MVC's wrapper
        }
    }

    private static readonly ConcurrentDictionary<Type, PropertyInfo?> s_wrapped = new();

    private static readonly ConcurrentDictionary<Type, bool> s_streams = new();

    /// <summary>
    /// Whether the result is (or carries: <c>Ok(stream)</c>, an MVC <see cref="ObjectResult"/>) an <see cref="IAsyncEnumerable{T}"/>,
    /// which reads when the result runs, after the handler returned: a query method's stream reads from the session then.
    /// </summary>
    public static bool IsAsyncStream(object? value)
    {
        if (value is IActionResult action and not ObjectResult && WrappedResult(action) is { } wrapped)
        {
            value = wrapped;
        }

        value = Unwrap(value) switch
        {
            IValueHttpResult valued => valued.Value,
            ObjectResult mvc => mvc.Value,
            var other => other,
        };
        return value is not null && s_streams.GetOrAdd(value.GetType(), static type => ImplementsAsyncEnumerable(type));
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Only asks whether the type implements IAsyncEnumerable<>; the trimmer keeps that interface on a type whose instances are serialized through it, and a type without it is no stream.")]
    private static bool ImplementsAsyncEnumerable(Type type)
    {
        foreach (Type implemented in type.GetInterfaces())
        {
            if (implemented.IsGenericType && implemented.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
            {
                return true;
            }
        }

        return false;
    }

    private static object? Unwrap(object? result)
    {
        for (int depth = 0; result is INestedHttpResult nested && depth < 8; depth++)
        {
            result = nested.Result;
        }

        return result;
    }

    /// <summary>
    /// A stream result reads when it runs, after the filter: a commit before it would end the session under it. Returns
    /// true when the filter must not commit: the session only read (nothing to commit; the request's scope closes it after
    /// the stream). A session that wrote is rolled back, and the call throws <see cref="StreamAfterWrite"/>.
    /// </summary>
    public static async ValueTask<bool> LeavesSessionToStreamAsync(DbSession session, object? result, string? endpoint, CancellationToken cancellationToken)
    {
        if (!session.IsOpen || !IsAsyncStream(result))
        {
            return false;
        }

        if (session.HasTransaction)
        {
            await session.RollbackAsync(cancellationToken).ConfigureAwait(false);
            throw StreamAfterWrite(endpoint);
        }

        return true;
    }

    /// <summary>The handler wrote, then returned a stream that would read after the commit: rolled back instead.</summary>
    public static InvalidOperationException StreamAfterWrite(string? endpoint)
        => new($"{endpoint ?? "The endpoint"} wrote through the session and returned a stream (IAsyncEnumerable) that reads when the response is written, after the unit of work ends: its write was rolled back, not committed. Read the rows into a list in the handler (a query method returning List<T>), or return the stream from an endpoint that only reads.");
}
