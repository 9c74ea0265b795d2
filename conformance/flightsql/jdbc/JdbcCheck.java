import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Drives Arbalest's Flight SQL server with the Arrow Flight SQL JDBC
 * driver. Run by TestJDBC (jdbc_test.go):
 *
 * <pre>java -cp flight-sql-jdbc-driver.jar:. JdbcCheck URL USER PASSWORD TABLES_FILE QUERY_FILE...</pre>
 *
 * TABLES_FILE has "name\tlocation" lines: each becomes an external table.
 * Each QUERY_FILE holds one query. The output is tab-separated lines for
 * the Go side to check: "TABLE name type" for every table the metadata
 * lists, "COLUMNS name count" for lineitem's columns, "ROW file v1 v2 ..."
 * for every result row (NULL as \N), and "ERROR message" for a bad query.
 */
public class JdbcCheck {
    public static void main(String[] args) {
        // The driver's gRPC threads would keep the JVM alive after a
        // failure: every way out ends the process.
        try {
            run(args);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static void run(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: JdbcCheck URL USER PASSWORD TABLES_FILE QUERY_FILE...");
            System.exit(2);
        }
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);

        // A wrong password is refused.
        Properties bad = new Properties();
        bad.setProperty("user", args[1]);
        bad.setProperty("password", args[2] + "-wrong");
        try (Connection c = DriverManager.getConnection(args[0], bad)) {
            System.err.println("a wrong password was accepted");
            System.exit(1);
        } catch (SQLException expected) {
            // refused, as it should be
        }

        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            try (Statement st = conn.createStatement()) {
                for (String line : Files.readAllLines(Path.of(args[3]), StandardCharsets.UTF_8)) {
                    if (line.isEmpty()) {
                        continue;
                    }
                    String[] kv = line.split("\t", 2);
                    st.execute("CREATE EXTERNAL TABLE " + kv[0] + " STORED AS PARQUET LOCATION '"
                            + kv[1].replace("'", "''") + "'");
                }
            }

            DatabaseMetaData md = conn.getMetaData();
            try (ResultSet rs = md.getTables(null, null, "%", null)) {
                while (rs.next()) {
                    emit("TABLE", rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"));
                }
            }
            int cols = 0;
            try (ResultSet rs = md.getColumns(null, null, "lineitem", "%")) {
                while (rs.next()) {
                    cols++;
                }
            }
            emit("COLUMNS", "lineitem", Integer.toString(cols));
            emit("PRODUCT", md.getDatabaseProductName());

            for (int i = 4; i < args.length; i++) {
                String sql = Files.readString(Path.of(args[i]), StandardCharsets.UTF_8);
                String key = Path.of(args[i]).getFileName().toString();
                try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                    rows(key, rs);
                }
            }

            // A prepared statement without parameters runs as a query.
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) AS n FROM nation WHERE n_regionkey = 1")) {
                try (ResultSet rs = ps.executeQuery()) {
                    rows("prepared", rs);
                }
            }

            try (Statement st = conn.createStatement()) {
                st.executeQuery("SELECT no_such_column FROM lineitem").close();
                System.err.println("a bad query succeeded");
                System.exit(1);
            } catch (SQLException e) {
                emit("ERROR", String.valueOf(e.getMessage()));
            }
        }
    }

    static void rows(String key, ResultSet rs) throws SQLException {
        ResultSetMetaData m = rs.getMetaData();
        int n = m.getColumnCount();
        while (rs.next()) {
            String[] out = new String[n + 2];
            out[0] = "ROW";
            out[1] = key;
            for (int c = 1; c <= n; c++) {
                String v = rs.getString(c);
                out[c + 1] = v; // null prints as \N
            }
            emit(out);
        }
    }

    static void emit(String... fields) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                b.append('\t');
            }
            if (fields[i] == null) {
                b.append("\\N");
            } else {
                b.append(fields[i].replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"));
            }
        }
        System.out.println(b);
    }
}
