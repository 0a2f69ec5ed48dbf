using System;
using System.ComponentModel;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DbCore.Infrastructure;

/// <summary>
/// Resolves the accessor when the host starts, so invalid configuration fails at startup rather than at the first request,
/// and warms the pool up when <c>Pool:WarmUp</c> is set. Registered by the generated <c>Add{Name}()</c>.
/// </summary>
/// <typeparam name="TAccessor">The generated accessor.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DatabaseStartupService<TAccessor> : IHostedService
    where TAccessor : DatabaseAccessor
{
    private readonly IServiceProvider _services;

    /// <summary>Creates the service.</summary>
    public DatabaseStartupService(IServiceProvider services) => _services = services;

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        TAccessor accessor = _services.GetRequiredService<TAccessor>();
        if (accessor.Pool.WarmUp)
        {
            await accessor.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
