package sql

import (
	"strings"
	"testing"
)

func TestRedactSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 's3://b/x/' OPTIONS (aws_access_key_id 'AKIA', aws_secret_access_key 'hush''hush', aws_region 'eu')": "OPTIONS (aws_access_key_id '***', aws_secret_access_key '***', aws_region 'eu')",
		"CREATE EXTERNAL TABLE c STORED AS pg OPTIONS (dsn 'postgres://ann:pw@db:5432/shop', table 'c')":                                                         "dsn 'postgres://ann:***@db:5432/shop'",
		"CREATE EXTERNAL TABLE c STORED AS pg OPTIONS (dsn 'host=db user=ann password=pw', password = 'x')":                                                      "dsn 'host=db user=ann password=***', password = '***')",
		"SELECT * FROM t WHERE name = 'password'": "SELECT * FROM t WHERE name = 'password'",
	} {
		got := RedactSecrets(in)
		if !strings.Contains(got, want) {
			t.Errorf("RedactSecrets(%q) = %q, want it to contain %q", in, got, want)
		}
		for _, secret := range []string{"hush", ":pw@", "password=pw", "'x'"} {
			if strings.Contains(in, secret) && strings.Contains(got, secret) {
				t.Errorf("RedactSecrets(%q) = %q still shows %q", in, got, secret)
			}
		}
	}
}
