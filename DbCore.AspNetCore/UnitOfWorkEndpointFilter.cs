using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore.AspNetCore;

/// <summary>
/// The unit of work of one minimal-API request: the handler runs, then the scoped <typeparamref name="TSession"/> commits
/// when the result is a success (2xx or 3xx) and rolls back otherwise (a 4xx or 5xx result, or an exception). DbCore errors become
/// ProblemDetails (see <see cref="DbCoreProblemDetails"/>). A session the handler never used sends nothing.
/// </summary>
/// <typeparam name="TSession">The generated session, e.g. <c>DatabaseSession</c>.</typeparam>
public sealed class UnitOfWorkEndpointFilter<TSession>(UnitOfWorkOptions options) : IEndpointFilter
    where TSession : DbSession
{
    /// <inheritdoc/>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        HttpContext http = context.HttpContext;
        int argument = IndexOfSession(context);
        TSession session = argument >= 0 ? (TSession)context.Arguments[argument]! : http.RequestServices.GetRequiredService<TSession>();
        for (int attempt = 1; ; attempt++)
        {
            DbCoreException? failure;
            try
            {
                object? result = await next(context).ConfigureAwait(false);
                if (!UnitOfWorkResults.IsSuccess(UnitOfWorkResults.StatusOf(result, http)))
                {
                    await session.RollbackAsync(http.RequestAborted).ConfigureAwait(false);
                    return result;
                }

                if (await UnitOfWorkResults.LeavesSessionToStreamAsync(session, result, http.GetEndpoint()?.DisplayName, http.RequestAborted).ConfigureAwait(false))
                {
                    return result;
                }

                if (session.IsOpen)
                {
                    await session.CommitAsync(http.RequestAborted).ConfigureAwait(false);
                }

                return result;
            }
            catch (Exception ex) when (DbCoreProblemDetails.Typed(session, ex) is { } typed)
            {
                // DbCore's own errors, and provider errors from raw commands on the session, typed the same way.
                failure = typed;
            }

            await session.DisposeAsync().ConfigureAwait(false); // rolls back whatever is open
            if (http.Response.HasStarted)
            {
                // The handler wrote the response itself: no problem answer can replace it. The error ends the request as
                // itself (the server logs it and cuts the response short), rather than as a status that can no longer be set.
                ExceptionDispatchInfo.Throw(failure);
            }

            if (!CanRetry(failure, attempt, argument, http))
            {
                DbCoreProblemDetails.Report(http, failure, attempt);
                return DbCoreProblemDetails.ToResult(failure, options.RetryAfterSeconds, handlerAttempts: attempt);
            }

            // Run the handler again on a fresh session: a session that rolled back cannot be reopened. Its scope lives as
            // long as the response, so a result that reads when it runs (a stream) still has its session.
            AsyncServiceScope scope = http.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
            http.Response.RegisterForDisposeAsync(scope);
            session = scope.ServiceProvider.GetRequiredService<TSession>();
            context.Arguments[argument] = session;
        }
    }

    private bool CanRetry(DbCoreException failure, int attempt, int argument, HttpContext http)
        => options.RetryTransientFailures && failure.IsTransient && attempt < options.MaxAttempts && argument >= 0
           && !http.Response.HasStarted && !http.RequestAborted.IsCancellationRequested;

    private static int IndexOfSession(EndpointFilterInvocationContext context)
    {
        for (int i = 0; i < context.Arguments.Count; i++)
        {
            if (context.Arguments[i] is TSession)
            {
                return i;
            }
        }

        return -1;
    }
}
