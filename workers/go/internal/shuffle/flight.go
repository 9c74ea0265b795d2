package shuffle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// MaxMessageBytes is the gRPC message limit of shuffle servers and clients
// (the 4 MiB default is too small for record batches).
const MaxMessageBytes = 64 << 20

// DefaultMaxBatchBytes is the size above which the Flight service slices a
// batch before sending it.
const DefaultMaxBatchBytes = 4 << 20

// ServerOptions are the gRPC server options of a shuffle Flight server.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
	}
}

// DialOptions are the gRPC dial options of a shuffle Flight client, all
// but the transport credentials: raised message limits, and connection
// attempts bounded by connectTimeout. Callers add credentials (DialFlight
// uses plaintext; executors add the cluster's security).
func DialOptions(connectTimeout time.Duration) []grpc.DialOption {
	if connectTimeout <= 0 {
		connectTimeout = DefaultConnectTimeout
	}
	bo := backoff.DefaultConfig
	bo.MaxDelay = 5 * time.Second
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bo, MinConnectTimeout: connectTimeout}),
	}
}

// DialFunc opens a Flight client to addr (host:port).
type DialFunc func(ctx context.Context, addr string) (flight.Client, error)

// DialFlight is the default DialFunc: DialOptions with the default connect
// timeout. The connection is made lazily, on the first call.
func DialFlight(ctx context.Context, addr string) (flight.Client, error) {
	opts := append(DialOptions(DefaultConnectTimeout), grpc.WithTransportCredentials(insecure.NewCredentials()))
	return flight.NewClientWithMiddlewareCtx(ctx, addr, nil, nil, opts...)
}

// ClientCache keeps one Flight client per address, shared by the readers of
// an executor. It is safe for concurrent use.
type ClientCache struct {
	dial DialFunc

	mu      sync.Mutex
	clients map[string]flight.Client
	closed  bool
}

// NewClientCache returns an empty cache that opens clients with dial
// (DialFlight when nil).
func NewClientCache(dial DialFunc) *ClientCache {
	if dial == nil {
		dial = DialFlight
	}
	return &ClientCache{dial: dial, clients: map[string]flight.Client{}}
}

// Get returns the client of addr, dialling it on first use.
func (c *ClientCache) Get(ctx context.Context, addr string) (flight.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("shuffle: client cache is closed")
	}
	if cl, ok := c.clients[addr]; ok {
		return cl, nil
	}
	cl, err := c.dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c.clients[addr] = cl
	return cl, nil
}

// Close closes every client; later Gets fail.
func (c *ClientCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for addr, cl := range c.clients {
		if err := cl.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", addr, err))
		}
		delete(c.clients, addr)
	}
	return errors.Join(errs...)
}

// FlightService serves the shuffle files under a root directory with
// Flight DoGet; the ticket format is described at Ticket. Each batch is
// sent LZ4-compressed and, when larger than MaxBatchBytes, in slices.
type FlightService struct {
	flight.BaseFlightServer
	root  string
	alloc memory.Allocator
	// MaxBatchBytes is the largest batch sent unsliced
	// (DefaultMaxBatchBytes unless set before serving).
	MaxBatchBytes int64
}

var _ flight.FlightServer = (*FlightService)(nil)

// NewFlightService serves the files under root (the executor's shuffle
// root, as given to TaskDir), decoding with alloc (the Go allocator when
// nil).
func NewFlightService(root string, alloc memory.Allocator) *FlightService {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	return &FlightService{root: root, alloc: alloc, MaxBatchBytes: DefaultMaxBatchBytes}
}

// DoGet streams the partition file named by the ticket.
func (s *FlightService) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = status.Errorf(codes.Internal, "shuffle: serving ticket %q: panic: %v", tkt.GetTicket(), p)
		}
	}()
	t, err := DecodeTicket(tkt.GetTicket())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	path := PartitionPath(TaskDir(s.root, t.Job, t.Stage, t.Map), t.Partition)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return status.Errorf(codes.NotFound, "shuffle: no output for %s on this executor", t)
	}
	if err != nil {
		return status.Errorf(codes.Internal, "shuffle: %s: %v", t, err)
	}
	defer f.Close()
	rdr, err := ipc.NewReader(bufio.NewReaderSize(f, 1<<20), ipc.WithAllocator(s.alloc))
	if err != nil {
		return status.Errorf(codes.DataLoss, "shuffle: %s: unreadable file: %v", t, err)
	}
	defer rdr.Release()
	w := flight.NewRecordWriter(stream, ipc.WithSchema(rdr.Schema()), ipc.WithAllocator(s.alloc), ipc.WithLZ4())
	defer w.Close()
	ctx := stream.Context()
	for rdr.Next() {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := s.send(w, rdr.RecordBatch()); err != nil {
			if ctx.Err() != nil {
				return status.FromContextError(ctx.Err()).Err()
			}
			return status.Errorf(codes.Unavailable, "shuffle: %s: send: %v", t, err)
		}
	}
	if err := rdr.Err(); err != nil {
		return status.Errorf(codes.DataLoss, "shuffle: %s: corrupt file: %v", t, err)
	}
	// Close writes the schema of a file without batches, then the end of
	// stream.
	if err := w.Close(); err != nil {
		return status.Errorf(codes.Unavailable, "shuffle: %s: send: %v", t, err)
	}
	return nil
}

// send writes b, in slices when it is larger than MaxBatchBytes.
func (s *FlightService) send(w *flight.Writer, b arrow.RecordBatch) error {
	rows := b.NumRows()
	if rows == 0 {
		return nil
	}
	limit := s.MaxBatchBytes
	if limit <= 0 {
		limit = DefaultMaxBatchBytes
	}
	size := batchBytes(b)
	if size <= limit {
		return w.Write(b)
	}
	step := max(1, rows*limit/size)
	for off := int64(0); off < rows; off += step {
		part := b.NewSlice(off, min(off+step, rows))
		err := w.Write(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// Server is a gRPC server running a Flight service, for executors and
// tests.
type Server struct {
	srv  *grpc.Server
	lis  net.Listener
	done chan struct{}
	err  error
}

// Serve listens on addr (e.g. "127.0.0.1:0") and serves svc with
// ServerOptions plus opts until Stop.
func Serve(addr string, svc flight.FlightServer, opts ...grpc.ServerOption) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("shuffle: listen %s: %w", addr, err)
	}
	all := append(ServerOptions(), grpc.WaitForHandlers(true))
	srv := grpc.NewServer(append(all, opts...)...)
	flight.RegisterFlightServiceServer(srv, svc)
	s := &Server{srv: srv, lis: lis, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = srv.Serve(lis)
	}()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop closes the listener and every connection, cancels running calls,
// and waits for their handlers to return.
func (s *Server) Stop() error {
	s.srv.Stop()
	<-s.done
	if errors.Is(s.err, grpc.ErrServerStopped) {
		return nil
	}
	return s.err
}
