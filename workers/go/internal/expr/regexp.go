package expr

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// regexp_match_substring(input, pattern [, position, occurrence, group]),
// regexp_count_substring(input, pattern [, position]) and
// regexp_replace(input, pattern, replacement [, position, occurrence])
// over Go's RE2 syntax (a subset of the ICU syntax the standard names;
// lookaround is not supported). Options case_sensitivity, multiline and
// dotall become the (?i), (?m) and (?s) flags. Positions are 1-based
// characters; occurrence 0 of regexp_replace replaces every match. A
// pattern constant at compile time is compiled once.

func init() {
	register("regexp_match_substring", true, compileRegexpFunc)
	register("regexp_count_substring", true, compileRegexpFunc)
	register("regexp_replace", true, compileRegexpFunc)
}

var regexpOptions = map[string][]string{
	"case_sensitivity": {"CASE_SENSITIVE", "CASE_INSENSITIVE", "CASE_INSENSITIVE_ASCII"},
	"multiline":        {"MULTILINE_DISABLED", "MULTILINE_ENABLED"},
	"dotall":           {"DOTALL_DISABLED", "DOTALL_ENABLED"},
}

// regexpFlags is the RE2 flag prefix for the call's options.
func regexpFlags(call *logical.Call) string {
	f := ""
	if option(call, "case_sensitivity", "CASE_SENSITIVE") != "CASE_SENSITIVE" {
		f += "i"
	}
	if option(call, "multiline", "MULTILINE_DISABLED") == "MULTILINE_ENABLED" {
		f += "m"
	}
	if option(call, "dotall", "DOTALL_DISABLED") == "DOTALL_ENABLED" {
		f += "s"
	}
	if f == "" {
		return ""
	}
	return "(?" + f + ")"
}

func compileRegexp(flags, pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(flags + pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: invalid regular expression %q: %v", ErrInvalidValue, pattern, err)
	}
	return re, nil
}

// regexpCache holds the compiled pattern of a column of patterns, reused
// while consecutive rows repeat it.
type regexpCache struct {
	flags string
	last  string
	re    *regexp.Regexp
}

func (c *regexpCache) get(p []byte) (*regexp.Regexp, error) {
	if c.re != nil && string(p) == c.last {
		return c.re, nil
	}
	re, err := compileRegexp(c.flags, string(p))
	if err != nil {
		return nil, err
	}
	c.re, c.last = re, string(p)
	return re, nil
}

func compileRegexpFunc(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkOptions(call, regexpOptions); err != nil {
		return nil, err
	}
	fn := call.Func
	nStr, maxArgs := 2, 5
	switch fn {
	case "regexp_count_substring":
		maxArgs = 3
	case "regexp_replace":
		nStr = 3
	}
	if len(args) < nStr || len(args) > maxArgs {
		return nil, unsupported(call, args)
	}
	conv := make([]node, len(args))
	for i, a := range args {
		t := a.dtype()
		to := arrow.DataType(arrow.BinaryTypes.String)
		ok := logical.IsString(t)
		if i >= nStr {
			to, ok = arrow.PrimitiveTypes.Int64, logical.IsInteger(t)
		}
		if !ok && t.ID() != arrow.NULL {
			return nil, unsupported(call, args)
		}
		var err error
		if conv[i], err = c.castNode(a, to, false); err != nil {
			return nil, err
		}
	}
	flags := regexpFlags(call)
	var fixed *regexp.Regexp
	if k, ok := asConst(conv[1]); ok && !k.isNull() {
		var err error
		if fixed, err = compileRegexp(flags, newStrView(k.arr).str(0)); err != nil {
			return nil, err
		}
	}
	out := arrow.DataType(arrow.BinaryTypes.String)
	if fn == "regexp_count_substring" {
		out = arrow.PrimitiveTypes.Int64
	}
	f := &strFunc{out: out, kernel: func(alloc memory.Allocator, ops []operand, n int, valid *memory.Buffer) (arrow.Array, error) {
		k := regexpKernel{fn: fn, fixed: fixed, cache: regexpCache{flags: flags}, x: sargOf(ops[0]), pat: sargOf(ops[1])}
		if fn == "regexp_replace" {
			k.repl = sargOf(ops[2])
		}
		ints := make([]iarg, len(ops)-nStr)
		for i := range ints {
			ints[i] = iargOf(ops[nStr+i])
		}
		k.ints = ints
		switch fn {
		case "regexp_count_substring":
			return k.count(alloc, n, valid)
		case "regexp_replace":
			return k.replace(alloc, n, valid, dataSize(ops[0]))
		}
		return k.matchSubstring(alloc, n, valid)
	}}
	return &strNode{args: conv, f: f, alloc: c.alloc}, nil
}

type regexpKernel struct {
	fn           string
	fixed        *regexp.Regexp
	cache        regexpCache
	x, pat, repl sarg
	ints         []iarg
}

func (k *regexpKernel) re(i int) (*regexp.Regexp, error) {
	if k.fixed != nil {
		return k.fixed, nil
	}
	return k.cache.get(k.pat.at(i))
}

// intArg is integer argument j of row i, or def when absent.
func (k *regexpKernel) intArg(i, j int, def int64) int64 {
	if j < len(k.ints) {
		return k.ints[j].at(i)
	}
	return def
}

// start is the byte offset of the 1-based character position (argument
// 0) in s; len(s) when it is past the end.
func (k *regexpKernel) start(i int, s []byte) (int, error) {
	pos := k.intArg(i, 0, 1)
	if pos < 1 {
		return 0, fmt.Errorf("%w: %s position must be at least 1, got %d", ErrInvalidValue, k.fn, pos)
	}
	off := 0
	for c := int64(1); c < pos; c++ {
		if off >= len(s) {
			return len(s), nil
		}
		if s[off] < utf8.RuneSelf {
			off++
		} else {
			_, w := utf8.DecodeRune(s[off:])
			off += w
		}
	}
	return off, nil
}

func (k *regexpKernel) count(alloc memory.Allocator, n int, valid *memory.Buffer) (arrow.Array, error) {
	vb := bitsOf(valid)
	buf, out := newValues[int64](alloc, n)
	for i := range out {
		if !isValid(vb, 0, i) {
			continue
		}
		re, err := k.re(i)
		if err == nil {
			s := k.x.at(i)
			var off int
			if off, err = k.start(i, s); err == nil {
				out[i] = int64(len(re.FindAllIndex(s[off:], -1)))
				continue
			}
		}
		buf.Release()
		releaseBuf(valid)
		return nil, err
	}
	return makeArray(arrow.PrimitiveTypes.Int64, n, valid, buf), nil
}

// matchSubstring returns the group of the occurrence-th match, NULL when
// there are fewer matches or the group did not participate.
func (k *regexpKernel) matchSubstring(alloc memory.Allocator, n int, valid *memory.Buffer) (arrow.Array, error) {
	if valid == nil {
		valid, _ = allValidBitmap(alloc, n)
	}
	vb := bitsOf(valid)
	return buildStr(alloc, n, 0, valid, func(i int, b *strBuilder) error {
		re, err := k.re(i)
		if err != nil {
			return err
		}
		s := k.x.at(i)
		off, err := k.start(i, s)
		if err != nil {
			return err
		}
		occ, group := k.intArg(i, 1, 1), k.intArg(i, 2, 0)
		if occ < 1 {
			return fmt.Errorf("%w: regexp_match_substring occurrence must be at least 1, got %d", ErrInvalidValue, occ)
		}
		if group < 0 || group > int64(re.NumSubexp()) {
			return fmt.Errorf("%w: regexp_match_substring group %d does not exist in pattern %q", ErrInvalidValue, group, re.String())
		}
		var m []int
		if occ == 1 {
			m = re.FindSubmatchIndex(s[off:])
		} else if all := re.FindAllSubmatchIndex(s[off:], int(min(occ, 1<<30))); int64(len(all)) >= occ {
			m = all[occ-1]
		}
		if m == nil || m[2*group] < 0 {
			setNull(vb, i)
			return nil
		}
		b.appendBytes(s[off+m[2*group] : off+m[2*group+1]])
		return nil
	})
}

func (k *regexpKernel) replace(alloc memory.Allocator, n int, valid *memory.Buffer, est int) (arrow.Array, error) {
	var idx [][]int
	return buildStr(alloc, n, est, valid, func(i int, b *strBuilder) error {
		re, err := k.re(i)
		if err != nil {
			return err
		}
		s := k.x.at(i)
		off, err := k.start(i, s)
		if err != nil {
			return err
		}
		occ := k.intArg(i, 1, 0)
		if occ < 0 {
			return fmt.Errorf("%w: regexp_replace occurrence must not be negative, got %d", ErrInvalidValue, occ)
		}
		limit := -1
		if occ > 0 {
			limit = int(min(occ, 1<<30))
		}
		idx = re.FindAllSubmatchIndex(s[off:], limit)
		if occ > 0 {
			if int64(len(idx)) < occ {
				idx = idx[:0]
			} else {
				idx = idx[occ-1:]
			}
		}
		repl := k.repl.at(i)
		b.appendBytes(s[:off])
		last := off
		for _, m := range idx {
			b.appendBytes(s[last : off+m[0]])
			if err := expandReplacement(b, repl, s[off:], m); err != nil {
				return err
			}
			last = off + m[1]
		}
		b.appendBytes(s[last:])
		return nil
	})
}

// expandReplacement appends repl with $n replaced by group n of match m
// (ICU syntax: the longest digit run naming an existing group), \n (one
// digit) likewise, and any other backslash making the next character
// literal.
func expandReplacement(b *strBuilder, repl, s []byte, m []int) error {
	groups := len(m)/2 - 1
	for j := 0; j < len(repl); j++ {
		c := repl[j]
		switch {
		case c == '\\' && j+1 < len(repl) && repl[j+1] >= '0' && repl[j+1] <= '9':
			// \n (n a single digit) is group n, as in PostgreSQL.
			j++
			g := int(repl[j] - '0')
			if g > groups {
				return fmt.Errorf("%w: regexp_replace replacement %q refers to group %d of a pattern with %d groups",
					ErrInvalidValue, repl, g, groups)
			}
			if m[2*g] >= 0 {
				b.appendBytes(s[m[2*g]:m[2*g+1]])
			}
		case c == '\\' && j+1 < len(repl):
			j++
			b.appendByte(repl[j])
		case c == '$':
			if j+1 >= len(repl) || repl[j+1] < '0' || repl[j+1] > '9' {
				return fmt.Errorf("%w: regexp_replace replacement %q: '$' must be followed by a group number (write \\$ for a literal '$')",
					ErrInvalidValue, repl)
			}
			g := int(repl[j+1] - '0')
			j++
			for j+1 < len(repl) && repl[j+1] >= '0' && repl[j+1] <= '9' && g*10+int(repl[j+1]-'0') <= groups {
				g = g*10 + int(repl[j+1]-'0')
				j++
			}
			if g > groups {
				return fmt.Errorf("%w: regexp_replace replacement %q refers to group %d of a pattern with %d groups",
					ErrInvalidValue, repl, g, groups)
			}
			if m[2*g] >= 0 {
				b.appendBytes(s[m[2*g]:m[2*g+1]])
			}
		default:
			b.appendByte(c)
		}
	}
	return nil
}
