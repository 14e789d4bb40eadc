"""What a MySQL client sees at an instance's reported endpoint."""

import pymysql


def connect(endpoint: dict, user: str, password: str, database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(
        host=endpoint["Address"], port=endpoint["Port"], user=user, password=password, database=database,
        connect_timeout=5, autocommit=True,
    )


def write_rows(endpoint: dict, user: str, password: str, database: str, rows: list[str]) -> None:
    with connect(endpoint, user, password, database) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)")
        cursor.executemany("INSERT INTO notes (body) VALUES (%s)", [(row,) for row in rows])


def read_rows(endpoint: dict, user: str, password: str, database: str) -> list[str]:
    with connect(endpoint, user, password, database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT body FROM notes ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def refused(endpoint: dict, user: str, password: str) -> bool:
    try:
        connect(endpoint, user, password).close()
    except pymysql.err.OperationalError as error:
        return error.args[0] == 1045
    return False
