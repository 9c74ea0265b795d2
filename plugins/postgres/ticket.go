package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// A split ticket is self-contained JSON: any process running the plugin
// can read the split from it alone. It carries the connection string,
// password included (tickets travel from the planner through the
// scheduler to executors; encrypting them is out of scope, so the plugin
// never prints them). A DSN without a password, with the password in
// PGPASSWORD or ~/.pgpass on every executor, keeps it out of tickets.

// ticketVersion changes when the ticket format does.
const ticketVersion = 1

// maxTicketBytes bounds a ticket (a huge IN list is the largest thing in one).
const maxTicketBytes = 16 << 20

// ErrTicket marks a split ticket the plugin cannot read.
var ErrTicket = errors.New("invalid postgres split ticket")

type ticket struct {
	Version int    `json:"v"`
	DSN     string `json:"dsn"`
	// ConnectTimeoutMS is the table's connect_timeout option (0: the DSN's
	// or the default).
	ConnectTimeoutMS int64  `json:"connect_timeout_ms,omitempty"`
	SQL              string `json:"sql"`
	// Params are the statement's parameters, sent in text format.
	Params  []param        `json:"params,omitempty"`
	Columns []ticketColumn `json:"columns"`
	// BatchRows is the number of rows per Arrow batch.
	BatchRows int `json:"batch_rows"`
	// Label names the split in messages: "public.t, split 2 of 4".
	Label string `json:"label"`
}

// ticketColumn is one output column: its Arrow field and the wire type the
// statement returns for it.
type ticketColumn struct {
	Name      string `json:"name"`
	OID       uint32 `json:"oid"`
	Precision int32  `json:"p,omitempty"`
	Scale     int32  `json:"s,omitempty"`
	Nullable  bool   `json:"nullable"`
}

func (tc ticketColumn) arrowType() (arrow.DataType, error) {
	switch tc.OID {
	case oidNumeric:
		if tc.Precision < 1 || tc.Precision > 38 || tc.Scale < 0 || tc.Scale > tc.Precision {
			return nil, fmt.Errorf("%w: column %q: decimal(%d, %d) is out of range", ErrTicket, tc.Name, tc.Precision, tc.Scale)
		}
		return &arrow.Decimal128Type{Precision: tc.Precision, Scale: tc.Scale}, nil
	case oidText:
		return arrow.BinaryTypes.String, nil
	}
	t, _, _, _, _, ok := arrowType(tc.OID, -1)
	if !ok {
		return nil, fmt.Errorf("%w: column %q has unknown type oid %d", ErrTicket, tc.Name, tc.OID)
	}
	return t, nil
}

func (t *ticket) encode() ([]byte, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encoding a split ticket: %w", err)
	}
	if len(b) > maxTicketBytes {
		return nil, fmt.Errorf("split ticket of %d bytes is larger than %d (too many pushed filter values)", len(b), maxTicketBytes)
	}
	return b, nil
}

// decodeTicket reads and checks a ticket. Its errors never quote the
// ticket (which holds the DSN).
func decodeTicket(b []byte) (*ticket, *arrow.Schema, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty", ErrTicket)
	}
	if len(b) > maxTicketBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrTicket, len(b), maxTicketBytes)
	}
	var t ticket
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, nil, fmt.Errorf("%w: not JSON (offset %d)", ErrTicket, syn.Offset)
		case errors.As(err, &typ):
			return nil, nil, fmt.Errorf("%w: field %q has the wrong type", ErrTicket, typ.Field)
		}
		// Other decoder messages (unknown field names) do not contain values.
		return nil, nil, fmt.Errorf("%w: %v", ErrTicket, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%w: trailing data after the ticket", ErrTicket)
	}
	switch {
	case t.Version != ticketVersion:
		return nil, nil, fmt.Errorf("%w: version %d, this plugin reads version %d (the planner and the executor run different plugin versions)", ErrTicket, t.Version, ticketVersion)
	case t.DSN == "":
		return nil, nil, fmt.Errorf("%w: no connection string", ErrTicket)
	case strings.TrimSpace(t.SQL) == "":
		return nil, nil, fmt.Errorf("%w: no SQL", ErrTicket)
	case t.BatchRows < 1 || t.BatchRows > 1<<20:
		return nil, nil, fmt.Errorf("%w: batch_rows %d out of range", ErrTicket, t.BatchRows)
	case t.ConnectTimeoutMS < 0 || t.ConnectTimeoutMS > int64(time.Hour/time.Millisecond):
		return nil, nil, fmt.Errorf("%w: connect timeout %d ms out of range", ErrTicket, t.ConnectTimeoutMS)
	case len(t.Params) > maxParams+2*maxPartitions:
		return nil, nil, fmt.Errorf("%w: %d parameters", ErrTicket, len(t.Params))
	}
	for i, p := range t.Params {
		if _, ok := paramOIDs[p.Type]; !ok {
			return nil, nil, fmt.Errorf("%w: parameter %d has unknown type %q", ErrTicket, i+1, p.Type)
		}
	}
	fs := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		at, err := c.arrowType()
		if err != nil {
			return nil, nil, err
		}
		fs[i] = arrow.Field{Name: c.Name, Type: at, Nullable: c.Nullable}
	}
	return &t, arrow.NewSchema(fs, nil), nil
}

func (t *ticket) connectTimeout() time.Duration {
	return time.Duration(t.ConnectTimeoutMS) * time.Millisecond
}
