package shuffle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// TicketVersion is the version of the shuffle ticket format written by
// EncodeTicket.
const TicketVersion = 1

// maxTicketLen bounds the tickets DecodeTicket reads.
const maxTicketLen = 1024

// Ticket names one output partition of one map task: the Flight DoGet
// ticket of the shuffle service.
//
// Wire format (version 1): the ticket bytes are one UTF-8 JSON object,
// at most 1024 bytes, with exactly these members:
//
//	{"v":1,"job":"<job id>","stage":<int>,"map":<int>,"partition":<int>}
//
//	v          format version, 1
//	job        job id, 1-64 characters of [A-Za-z0-9_-]
//	stage      producing stage id, >= 0
//	map        partition (task) of the producing stage, >= 0
//	partition  output partition of that task, >= 0
//
// Every member is required; unknown members, other versions, and numbers
// that are negative, fractional or above 2^31-1 are rejected with
// InvalidArgument. The ticket maps to the file
// <root>/<job>/stage-<stage>/map-<map>/part-<partition>.arrow on the
// serving executor; a missing file is NotFound.
type Ticket struct {
	Job       string
	Stage     int
	Map       int
	Partition int
}

// String names the ticket in errors and logs.
func (t Ticket) String() string {
	return fmt.Sprintf("job %s stage %d map %d partition %d", t.Job, t.Stage, t.Map, t.Partition)
}

type ticketJSON struct {
	V         *int    `json:"v"`
	Job       *string `json:"job"`
	Stage     *int64  `json:"stage"`
	Map       *int64  `json:"map"`
	Partition *int64  `json:"partition"`
}

// EncodeTicket writes t in the current ticket format. It validates t as
// DecodeTicket would.
func EncodeTicket(t Ticket) ([]byte, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	v := TicketVersion
	st, m, p := int64(t.Stage), int64(t.Map), int64(t.Partition)
	return json.Marshal(ticketJSON{V: &v, Job: &t.Job, Stage: &st, Map: &m, Partition: &p})
}

// ErrBadTicket is wrapped by every DecodeTicket error.
var ErrBadTicket = errors.New("shuffle: bad ticket")

// DecodeTicket parses and validates a ticket written by EncodeTicket (or by
// any worker following the format above).
func DecodeTicket(b []byte) (Ticket, error) {
	if len(b) == 0 {
		return Ticket{}, fmt.Errorf("%w: empty", ErrBadTicket)
	}
	if len(b) > maxTicketLen {
		return Ticket{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBadTicket, len(b), maxTicketLen)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j ticketJSON
	if err := dec.Decode(&j); err != nil {
		return Ticket{}, fmt.Errorf("%w: %v", ErrBadTicket, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Ticket{}, fmt.Errorf("%w: data after the JSON object", ErrBadTicket)
	}
	switch {
	case j.V == nil:
		return Ticket{}, fmt.Errorf("%w: missing \"v\"", ErrBadTicket)
	case *j.V != TicketVersion:
		return Ticket{}, fmt.Errorf("%w: version %d, this executor reads version %d", ErrBadTicket, *j.V, TicketVersion)
	case j.Job == nil:
		return Ticket{}, fmt.Errorf("%w: missing \"job\"", ErrBadTicket)
	}
	var t Ticket
	t.Job = *j.Job
	for _, f := range []struct {
		name string
		v    *int64
		dst  *int
	}{{"stage", j.Stage, &t.Stage}, {"map", j.Map, &t.Map}, {"partition", j.Partition, &t.Partition}} {
		if f.v == nil {
			return Ticket{}, fmt.Errorf("%w: missing %q", ErrBadTicket, f.name)
		}
		if *f.v < 0 || *f.v > 1<<31-1 {
			return Ticket{}, fmt.Errorf("%w: %s %d out of range [0, 2^31-1]", ErrBadTicket, f.name, *f.v)
		}
		*f.dst = int(*f.v)
	}
	if err := t.validate(); err != nil {
		return Ticket{}, err
	}
	return t, nil
}

func (t Ticket) validate() error {
	if err := ValidateJobID(t.Job); err != nil {
		return fmt.Errorf("%w: %v", ErrBadTicket, err)
	}
	if t.Stage < 0 || t.Map < 0 || t.Partition < 0 || t.Stage > 1<<31-1 || t.Map > 1<<31-1 || t.Partition > 1<<31-1 {
		return fmt.Errorf("%w: %s has a number out of range [0, 2^31-1]", ErrBadTicket, t)
	}
	return nil
}
