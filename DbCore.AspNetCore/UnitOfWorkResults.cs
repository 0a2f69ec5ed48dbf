using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
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

    /// <summary>An MVC result's status, as <see cref="StatusOf(object?, HttpContext)"/>.</summary>
    public static int StatusOf(IActionResult? result, HttpContext http)
        => result switch
        {
            IStatusCodeActionResult { StatusCode: { } code } => code,
            ForbidResult => StatusCodes.Status403Forbidden,
            ChallengeResult => StatusCodes.Status401Unauthorized,
            _ => http.Response.StatusCode,
        };

    /// <summary>
    /// Whether the result is (or carries: <c>Ok(stream)</c>, an MVC <see cref="ObjectResult"/>) an <see cref="IAsyncEnumerable{T}"/>,
    /// which reads when the result runs, after the handler returned: a query method's stream reads from the session then.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Only asks whether the value's type implements IAsyncEnumerable<>; the trimmer keeps that interface on a type whose instances are serialized through it, and a type without it is no stream.")]
    public static bool IsAsyncStream(object? value)
    {
        value = Unwrap(value) switch
        {
            IValueHttpResult valued => valued.Value,
            ObjectResult mvc => mvc.Value,
            var other => other,
        };
        if (value is null)
        {
            return false;
        }

        foreach (Type type in value.GetType().GetInterfaces())
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
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

    /// <summary>The handler wrote, then returned a stream that would read after the commit: rolled back instead.</summary>
    public static InvalidOperationException StreamAfterWrite(string? endpoint)
        => new($"{endpoint ?? "The endpoint"} wrote through the session and returned a stream (IAsyncEnumerable) that reads when the response is written, after the unit of work ends: its write was rolled back, not committed. Read the rows into a list in the handler (a query method returning List<T>), or return the stream from an endpoint that only reads.");
}
