package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"

	"claude-otel-gw/telemetry"
)

// Client sends captured payloads to a gateway the way Claude Code would: over gRPC for .grpc.pb
// files and over OTLP/HTTP, in the file's own encoding, for the others.
type Client struct {
	HTTPBase string // e.g. "http://127.0.0.1:4318"
	Gzip     bool   // compress requests
	conn     *grpc.ClientConn
	http     *http.Client
}

// NewClient dials grpcAddr (without blocking) and prepares an HTTP client for httpBase.
func NewClient(grpcAddr, httpBase string) (*Client, error) {
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &Client{HTTPBase: httpBase, conn: conn, http: &http.Client{}}, nil
}

// Close closes the gRPC connection.
func (c *Client) Close() error { return c.conn.Close() }

// Send delivers one payload and returns an error unless the gateway acknowledged it.
func (c *Client) Send(ctx context.Context, p Payload) error {
	if p.Encoding == GRPC {
		return c.SendGRPC(ctx, p.Request)
	}
	ctype := "application/x-protobuf"
	if p.Encoding == HTTPJSON {
		ctype = "application/json"
	}
	status, body, err := c.Post(ctx, p.Signal, ctype, p.Body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %q", p.Name, status, body)
	}
	return nil
}

// SendGRPC exports r over gRPC.
func (c *Client) SendGRPC(ctx context.Context, r telemetry.Request) error {
	var opts []grpc.CallOption
	if c.Gzip {
		opts = append(opts, grpc.UseCompressor(grpcgzip.Name))
	}
	var err error
	switch {
	case r.Logs != nil:
		_, err = collogspb.NewLogsServiceClient(c.conn).Export(ctx, r.Logs, opts...)
	case r.Metrics != nil:
		_, err = colmetricspb.NewMetricsServiceClient(c.conn).Export(ctx, r.Metrics, opts...)
	case r.Traces != nil:
		_, err = coltracepb.NewTraceServiceClient(c.conn).Export(ctx, r.Traces, opts...)
	}
	return err
}

// Post sends body to the signal's OTLP/HTTP path and returns the status and response body.
func (c *Client) Post(ctx context.Context, sig telemetry.Signal, contentType string, body []byte) (int, []byte, error) {
	var enc string
	if c.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body, enc = buf.Bytes(), "gzip"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.HTTPBase+"/v1/"+sig.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
