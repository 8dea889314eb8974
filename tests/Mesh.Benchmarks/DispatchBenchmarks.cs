using System.Buffers;
using BenchmarkDotNet.Attributes;
using MemoryPack;
using Mesh.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Invocation;

namespace Mesh.Benchmarks;

/// <summary>
/// (c) What the owner node does with a call that arrived from another node, once the message is framed: deserialize
/// the request from bytes, call the actor, serialize the response into a reused buffer. Mesh uses its generated
/// <see cref="IActorDispatcher"/>; Orleans its generated invokable and codecs through its <see cref="Serializer"/>,
/// the way a silo handles a message body. Mailbox and scheduler are not part of this figure (scenarios a and d cover
/// them), so both call an actor instance directly.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Dispatch")]
public class DispatchBenchmarks
{
    private readonly ArrayBufferWriter<byte> _response = new(256);
    private IHost? _host;

    private IActorDispatcher _dispatcher = null!;
    private Counter _counter = null!;
    private ReadOnlySequence<byte> _meshRequest;

    private Serializer _serializer = null!;
    private TargetHolder _grain = null!;
    private ReadOnlySequence<byte> _orleansRequest;

    /// <summary>Gets the response of the last operation.</summary>
    public ReadOnlyMemory<byte> LastResponse => _response.WrittenMemory;

    [GlobalSetup(Target = nameof(Mesh))]
    public void SetupMesh()
    {
        _dispatcher = ActorContract<ICounter>.Get().Dispatcher;
        _counter = new Counter(null!);
        // The request as a calling node puts it on the wire: written by the generated formatter (object header, then
        // the arguments). MemoryPackSerializer.Serialize would not do: for an unmanaged struct it copies the raw bytes
        // and never asks the formatter.
        var request = new ICounter_IncrementAsync_Request(1);
        _meshRequest = new ReadOnlySequence<byte>(WriteMesh(new ICounter_IncrementAsync_Request.Formatter(), request));
    }

    [GlobalSetup(Target = nameof(Orleans))]
    public async Task SetupOrleansAsync()
    {
        _host = await Nodes.StartOrleansAsync();
        _serializer = _host.Services.GetRequiredService<Serializer>();
        _grain = new TargetHolder(new CounterGrain());

        // The request a silo receives for grain.IncrementAsync(1): the invokable the generated proxy creates, serialized
        // as the message body (an object, so with its type).
        IInvokable request = CreateOrleansRequest(1);
        _orleansRequest = new ReadOnlySequence<byte>(_serializer.SerializeToArray<object>(request));
        request.Dispose();
    }

    [GlobalCleanup]
    public Task CleanupAsync() => Nodes.StopAsync(_host);

    /// <summary>Returns the number of response bytes written.</summary>
    [Benchmark]
    public async ValueTask<int> Mesh()
    {
        _response.ResetWrittenCount();
        await _dispatcher.DispatchAsync(_counter, ICounter_IncrementAsync_Request.MethodId, _meshRequest, _response, CancellationToken.None);
        return _response.WrittenCount;
    }

    /// <summary>Returns the number of response bytes written.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<int> Orleans()
    {
        _response.ResetWrittenCount();
        var request = (IInvokable)_serializer.Deserialize<object>(_orleansRequest)!;
        request.SetTarget(_grain);
        Response response = await request.Invoke();
        _serializer.Serialize<object, ArrayBufferWriter<byte>>(response, _response);
        response.Dispose();
        request.Dispose();
        return _response.WrittenCount;
    }

    /// <summary>Reads the counter value from the last Mesh response.</summary>
    public int ReadMeshResponse()
    {
        using MemoryPackReaderOptionalState state = MemoryPackReaderOptionalStatePool.Rent(null);
        var reader = new MemoryPackReader(_response.WrittenSpan, state);
        ICounter_IncrementAsync_Response response = default;
        new ICounter_IncrementAsync_Response.Formatter().Deserialize(ref reader, ref response);
        int read = reader.Consumed;
        reader.Dispose();
        return read == _response.WrittenCount ? response.Result : throw new InvalidOperationException($"the response has {_response.WrittenCount - read} bytes past its end");
    }

    /// <summary>Reads the counter value from the last Orleans response.</summary>
    public int ReadOrleansResponse() => (int)((Response)_serializer.Deserialize<object>(_response.WrittenMemory)!).Result!;

    private static byte[] WriteMesh<T>(MemoryPackFormatter<T> formatter, T value)
        where T : struct
    {
        var buffer = new ArrayBufferWriter<byte>();
        using MemoryPackWriterOptionalState state = MemoryPackWriterOptionalStatePool.Rent(null);
        var writer = new MemoryPackWriter<ArrayBufferWriter<byte>>(ref buffer, state);
        formatter.Serialize(ref writer, ref value);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static IInvokable CreateOrleansRequest(int by)
    {
        // The generated invokable's name carries a hash; find it by the interface and method it invokes.
        foreach (Type type in typeof(DispatchBenchmarks).Assembly.GetTypes())
        {
            if (typeof(IInvokable).IsAssignableFrom(type) && !type.IsAbstract && type.GetConstructor(Type.EmptyTypes) is not null)
            {
                var invokable = (IInvokable)Activator.CreateInstance(type)!;
                if (invokable.GetInterfaceType() == typeof(ICounterGrain) && invokable.GetMethodName() == nameof(ICounterGrain.IncrementAsync))
                {
                    invokable.SetArgument(0, by);
                    return invokable;
                }
            }
        }

        throw new InvalidOperationException("Orleans' code generator emitted no invokable for ICounterGrain.IncrementAsync.");
    }

    /// <summary>Hands the grain instance to the invokable, as an activation does.</summary>
    private sealed class TargetHolder(object target) : ITargetHolder
    {
        public object? GetTarget() => target;

        public object? GetComponent(Type componentType) => null;
    }
}
