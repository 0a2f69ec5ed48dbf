using System;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace DbCore.AspNetCore;

/// <summary>Turns on the unit of work per request for minimal-API endpoints and MVC.</summary>
public static class UnitOfWorkExtensions
{
    /// <summary>
    /// Every request to this endpoint is one unit of work of <typeparamref name="TSession"/>: the scoped session commits
    /// when the handler's result is a success (2xx) and rolls back otherwise, and DbCore errors become ProblemDetails:
    /// <c>app.MapPost("/todos", ...).WithUnitOfWork&lt;DatabaseSession&gt;()</c>.
    /// </summary>
    /// <typeparam name="TSession">The generated session.</typeparam>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="configure">Changes to the defaults (no handler retry, Retry-After 1 s).</param>
    /// <returns>The endpoint.</returns>
    public static RouteHandlerBuilder WithUnitOfWork<TSession>(this RouteHandlerBuilder endpoint, Action<UnitOfWorkOptions>? configure = null)
        where TSession : DbSession
        => Add<RouteHandlerBuilder, TSession>(endpoint, configure);

    /// <summary>
    /// Every request to the group's endpoints is one unit of work of <typeparamref name="TSession"/> (see the endpoint
    /// overload): <c>app.MapGroup("/todos").WithUnitOfWork&lt;DatabaseSession&gt;()</c>.
    /// </summary>
    /// <typeparam name="TSession">The generated session.</typeparam>
    /// <param name="group">The route group.</param>
    /// <param name="configure">Changes to the defaults.</param>
    /// <returns>The group.</returns>
    public static RouteGroupBuilder WithUnitOfWork<TSession>(this RouteGroupBuilder group, Action<UnitOfWorkOptions>? configure = null)
        where TSession : DbSession
        => Add<RouteGroupBuilder, TSession>(group, configure);

    private static TBuilder Add<TBuilder, TSession>(TBuilder builder, Action<UnitOfWorkOptions>? configure)
        where TBuilder : IEndpointConventionBuilder
        where TSession : DbSession
    {
        ArgumentNullException.ThrowIfNull(builder);
        UnitOfWorkOptions options = Options(configure);
        builder.AddEndpointFilter(new UnitOfWorkEndpointFilter<TSession>(options));
        return builder;
    }

    private static UnitOfWorkOptions Options(Action<UnitOfWorkOptions>? configure)
    {
        var options = new UnitOfWorkOptions();
        configure?.Invoke(options);
        if (options.MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(configure), options.MaxAttempts, "UnitOfWorkOptions.MaxAttempts must be at least 1.");
        }

        return options;
    }

    /// <summary>
    /// Every MVC action is one unit of work of <typeparamref name="TSession"/> (see <see cref="UnitOfWorkActionFilter{TSession}"/>):
    /// <c>services.AddControllers(o =&gt; o.AddUnitOfWork&lt;DatabaseSession&gt;())</c>.
    /// </summary>
    /// <typeparam name="TSession">The generated session.</typeparam>
    /// <param name="options">The MVC options.</param>
    /// <param name="configure">Changes to the defaults (Retry-After).</param>
    /// <returns>The options.</returns>
    public static MvcOptions AddUnitOfWork<TSession>(this MvcOptions options, Action<UnitOfWorkOptions>? configure = null)
        where TSession : DbSession
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Filters.Add(new UnitOfWorkActionFilter<TSession>(Options(configure)));
        return options;
    }
}
