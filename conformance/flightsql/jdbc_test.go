package flightsql_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbalest/arbalest/conformance/tpch"
)

// The Arrow Flight SQL JDBC driver the test uses (Maven Central), pinned
// by version and SHA-256.
const (
	jdbcVersion = "18.3.0"
	jdbcURL     = "https://repo1.maven.org/maven2/org/apache/arrow/flight-sql-jdbc-driver/" + jdbcVersion + "/flight-sql-jdbc-driver-" + jdbcVersion + ".jar"
	jdbcSHA256  = "3f418b46c880e263558c5de669bdbede2c5d4375527ced116fb29f795b03704c"
)

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("ARBALEST_FLIGHTSQL_REQUIRED") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// jdbcJar is the driver jar: $ARBALEST_FLIGHTSQL_JDBC_JAR, or the pinned
// version downloaded once into the user's cache directory.
func jdbcJar(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ARBALEST_FLIGHTSQL_JDBC_JAR"); p != "" {
		if !fileExists(p) {
			t.Fatalf("ARBALEST_FLIGHTSQL_JDBC_JAR=%s does not exist", p)
		}
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "arbalest")
	jar := filepath.Join(dir, "flight-sql-jdbc-driver-"+jdbcVersion+".jar")
	if sum, err := fileSHA256(jar); err == nil && sum == jdbcSHA256 {
		return jar
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jdbcURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		skipOrFail(t, "downloading the JDBC driver from %s: %v (or set ARBALEST_FLIGHTSQL_JDBC_JAR)", jdbcURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		skipOrFail(t, "downloading the JDBC driver from %s: %s", jdbcURL, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, "jdbc-*.jar")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, 512<<20)); err != nil {
		tmp.Close()
		t.Fatalf("downloading the JDBC driver: %v", err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != jdbcSHA256 {
		t.Fatalf("the JDBC driver from %s has SHA-256 %s, want %s", jdbcURL, got, jdbcSHA256)
	}
	if err := os.Rename(tmp.Name(), jar); err != nil {
		t.Fatal(err)
	}
	return jar
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unescape reverses JdbcCheck's escaping of one field.
func unescape(s string) tpch.Value {
	if s == `\N` {
		return tpch.Value{Null: true}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return tpch.Value{Text: b.String()}
}

// TestJDBC connects with the Arrow Flight SQL JDBC driver from a small
// Java program: login, CREATE EXTERNAL TABLE, DatabaseMetaData tables and
// columns, TPC-H Q1, Q3 and Q6 checked against the embedded engine, a
// prepared statement, and a bad query's error.
func TestJDBC(t *testing.T) {
	dir := tpchData(t)
	javac, err := exec.LookPath("javac")
	if err != nil {
		skipOrFail(t, "no javac on PATH (Java 17 or newer)")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		skipOrFail(t, "no java on PATH (Java 17 or newer)")
	}
	jar := jdbcJar(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)

	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, javac, "-d", work, "-cp", jar, filepath.Join("jdbc", "JdbcCheck.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	var tables strings.Builder
	for _, tb := range tpch.Tables {
		loc := filepath.Join(dir, tb+".parquet")
		if !fileExists(loc) {
			loc = filepath.Join(dir, tb)
		}
		fmt.Fprintf(&tables, "%s\t%s\n", tb, loc)
	}
	tablesFile := filepath.Join(work, "tables.tsv")
	if err := os.WriteFile(tablesFile, []byte(tables.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	qs := []int{1, 3, 6}
	args := []string{
		// Arrow's memory needs java.nio opened on Java 17.
		"--add-opens=java.base/java.nio=ALL-UNNAMED",
		"-cp", jar + string(os.PathListSeparator) + work, "JdbcCheck",
		"jdbc:arrow-flight-sql://" + addr + "/?useEncryption=false", testUser, testPassword, tablesFile,
	}
	for _, q := range qs {
		text, err := tpch.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(work, fmt.Sprintf("q%02d.sql", q))
		if err := os.WriteFile(p, []byte(strings.TrimRight(strings.TrimSpace(text), ";")), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.CommandContext(ctx, java, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("JdbcCheck: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}

	kinds := map[string]string{}
	rows := map[string][][]tpch.Value{}
	var columns, product, errMsg string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		switch f[0] {
		case "TABLE":
			kinds[f[1]] = f[2]
		case "COLUMNS":
			columns = f[2]
		case "PRODUCT":
			product = f[1]
		case "ROW":
			var r []tpch.Value
			for _, v := range f[2:] {
				r = append(r, unescape(v))
			}
			rows[f[1]] = append(rows[f[1]], r)
		case "ERROR":
			errMsg = unescape(f[1]).Text
		}
	}
	for _, tb := range tpch.Tables {
		if kinds[tb] != "TABLE" {
			t.Errorf("DatabaseMetaData.getTables: %s is %q (all: %v)", tb, kinds[tb], kinds)
		}
	}
	if columns != "16" {
		t.Errorf("DatabaseMetaData.getColumns(lineitem): %s columns, want 16", columns)
	}
	if product != "Arbalest" {
		t.Errorf("database product name %q", product)
	}
	for _, q := range qs {
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatal(want.Err)
		}
		if err := tpch.Compare(rows[fmt.Sprintf("q%02d.sql", q)], want.Rows); err != nil {
			t.Errorf("q%02d over JDBC: %v", q, err)
		}
	}
	if err := tpch.Compare(rows["prepared"], runLocal(t, local, "SELECT count(*) AS n FROM nation WHERE n_regionkey = 1")); err != nil {
		t.Errorf("prepared statement over JDBC: %v", err)
	}
	if !strings.Contains(errMsg, "no_such_column") {
		t.Errorf("bad query's error over JDBC: %q", errMsg)
	}
}
