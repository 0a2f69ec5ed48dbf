using System;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore.AspNetCore;

/// <summary>
/// The unit of work of one MVC action: after the action, the scoped <typeparamref name="TSession"/> commits when the result
/// is a success (2xx or 3xx) and rolls back otherwise (a 4xx or 5xx result, or an exception). DbCore errors become ProblemDetails
/// (see <see cref="DbCoreProblemDetails"/>). Register it with <see cref="UnitOfWorkExtensions.AddUnitOfWork{TSession}"/>.
/// The whole-action retry of <see cref="UnitOfWorkOptions.RetryTransientFailures"/> is for minimal APIs only.
/// </summary>
/// <typeparam name="TSession">The generated session, e.g. <c>DatabaseSession</c>.</typeparam>
public sealed class UnitOfWorkActionFilter<TSession>(UnitOfWorkOptions options) : IAsyncActionFilter
    where TSession : DbSession
{
    /// <inheritdoc/>
    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        TSession session = context.HttpContext.RequestServices.GetRequiredService<TSession>();
        ActionExecutedContext executed = await next().ConfigureAwait(false);
        try
        {
            if (executed.Exception is { } exception && !executed.ExceptionHandled)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                if (!context.HttpContext.Response.HasStarted && DbCoreProblemDetails.Typed(session, exception) is { } failure)
                {
                    executed.Result = Problem(failure, context.HttpContext);
                    executed.ExceptionHandled = true;
                }

                return;
            }

            if (!UnitOfWorkResults.IsSuccess(UnitOfWorkResults.StatusOf(executed.Result, context.HttpContext)))
            {
                await session.RollbackAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
                return;
            }

            if (await UnitOfWorkResults.LeavesSessionToStreamAsync(session, executed.Result, context.ActionDescriptor.DisplayName, context.HttpContext.RequestAborted).ConfigureAwait(false))
            {
                return;
            }

            if (session.IsOpen)
            {
                await session.CommitAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (DbCoreException failure) when (!context.HttpContext.Response.HasStarted)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            executed.Result = Problem(failure, context.HttpContext);
        }
    }

    private ObjectResult Problem(DbCoreException failure, HttpContext http)
    {
        DbCoreProblemDetails.Report(http, failure, handlerAttempts: 1);
        ProblemDetails problem = DbCoreProblemDetails.Create(failure);
        DbCoreProblemDetails.AddRetryAfter(http.Response, problem.Status ?? 500, options.RetryAfterSeconds);
        return new ObjectResult(problem) { StatusCode = problem.Status, ContentTypes = { "application/problem+json" } };
    }
}
