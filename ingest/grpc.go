package ingest

import (
	"context"
	"fmt"
	"math"
	"time"

	"claude-otel-gw/telemetry"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip decompressor OTLP clients use
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// keepaliveMinTime is the shortest interval between client pings the server tolerates. grpc-go's
// default (5 minutes, and no pings between RPCs) would send a client that pings between exports,
// as OTLP exporters may be configured to, a GOAWAY it has to reconnect after; on loopback a ping
// every few seconds costs nothing.
const keepaliveMinTime = 5 * time.Second

func newGRPCServer(s *Server) *grpc.Server {
	cfg := s.cfg
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec{base: encoding.GetCodecV2(grpcproto.Name), maxDepth: cfg.MaxNestingDepth}),
		// grpc-go applies the limit to the message as received and again while decompressing it,
		// reading at most one byte past it: a gzip bomb costs at most the limit in memory.
		grpc.MaxRecvMsgSize(int(min(int64(cfg.MaxRequestBytes), math.MaxInt32))),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: cfg.IdleTimeout.D()}),
		grpc.UnknownServiceHandler(s.unknownGRPCMethod),
		grpc.InTapHandle(s.tapGRPC),
	}
	if cfg.TLS() {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.listenerTLS(transportGRPC))))
	}
	if d := cfg.ReadHeaderTimeout.D(); d > 0 {
		// Bounds the TCP-to-HTTP/2 handshake, the gRPC counterpart of reading HTTP headers.
		opts = append(opts, grpc.ConnectionTimeout(d))
	}
	g := grpc.NewServer(opts...)
	g.RegisterService(serviceDesc(&collogspb.LogsService_ServiceDesc, telemetry.Logs), s)
	g.RegisterService(serviceDesc(&colmetricspb.MetricsService_ServiceDesc, telemetry.Metrics), s)
	g.RegisterService(serviceDesc(&coltracepb.TraceService_ServiceDesc, telemetry.Traces), s)
	return g
}

// serviceDesc describes one OTLP collector service under its generated name, with an Export
// method that receives the request through the codec below instead of the generated decoder.
func serviceDesc(generated *grpc.ServiceDesc, sig telemetry.Signal) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: generated.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			// No interceptors are installed, so the interceptor argument is always nil.
			Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				return srv.(*Server).exportGRPC(ctx, sig, dec)
			},
		}},
		Metadata: generated.Metadata,
	}
}

func (s *Server) exportGRPC(ctx context.Context, sig telemetry.Signal, dec func(any) error) (any, error) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	in := incoming{req: telemetry.Empty(sig)}
	if err := dec(&in); err != nil {
		// grpc-go has answered this one itself (too large, not decompressible, cut short);
		// all that is left is to count it.
		s.refused(transportGRPC, sig, telemetry.Request{}, receiveError(err))
		return nil, err
	}
	if ref := s.settle(ctx, transportGRPC, sig, in.req, in.err); ref != nil {
		return nil, ref.status().Err()
	}
	return emptyResponse(sig), nil
}

// receiveError classifies what grpc-go reported while receiving a message, for the metrics. The
// client has its answer already: RESOURCE_EXHAUSTED for a message over the limit, INTERNAL for a
// payload that does not decompress (grpc-go's choice, made before ingest sees the request).
func receiveError(err error) error {
	st := status.Convert(err)
	if st.Code() == codes.ResourceExhausted {
		return fmt.Errorf("%w: %s", errTooLarge, st.Message())
	}
	return fmt.Errorf("%w: %s", errMalformed, st.Message())
}

func (s *Server) unknownGRPCMethod(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	ref := s.refused(transportGRPC, 0, telemetry.Request{}, fmt.Errorf("%w: %s", errNotFound, method))
	return ref.status().Err()
}

// incoming carries an export request from the codec to the method handler. grpc-go answers any
// codec error itself, as INTERNAL; OTLP wants INVALID_ARGUMENT naming the problem, so the codec
// decodes and checks the request and leaves what it found for the handler to answer.
type incoming struct {
	req telemetry.Request
	err error
}

// codec is grpc-go's protobuf codec, except that it decodes export requests with ingest's own
// limits and checks. The server only serves OTLP, so it is the only codec the server needs.
type codec struct {
	base     encoding.CodecV2
	maxDepth int
}

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	in, ok := v.(*incoming)
	if !ok {
		return c.base.Unmarshal(data, v)
	}
	// A message that arrived in one piece is decoded in place; the decoder copies what it keeps.
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	in.err = decodeProtobuf(buf.ReadOnlyData(), in.req, c.maxDepth)
	return nil
}

func (codec) Name() string { return grpcproto.Name }
