"""Correct code on top of much of the standard library: 8 threads, released together by a Barrier,
each make the calls a threaded service makes all the time (regular expressions, JSON, strptime,
logging, URL parsing, decimal and fractions, codecs, csv, uuid, namedtuple...) on their own
data.  Nothing here is shared by the program; what the standard library shares inside, it protects
or only uses as a cache of equal values (re's and encodings' caches: the default suppressions,
docs/suppressions.md).  Must not produce a report.
"""
# expect: clean
import base64
import collections
import csv
import datetime
import decimal
import email.utils
import fractions
import fnmatch
import hashlib
import html
import io
import json
import logging
import pathlib
import random
import re
import statistics
import string
import textwrap
import threading
import time
import urllib.parse
import uuid

logging.basicConfig(level=logging.WARNING)
log = logging.getLogger("smoke")
barrier = threading.Barrier(8)

def work(i):
    barrier.wait()
    for k in range(30):
        re.compile(r"x%d_(\d+)" % (k % 7)).match("x1_23")
        re.sub(r"\s+", " ", "a  b   c")
        json.loads(json.dumps({"a": [1, 2, {"b": k}]}))
        datetime.datetime.strptime("2024-01-%02d" % (k % 28 + 1), "%Y-%m-%d")
        log.debug("k=%d", k)
        urllib.parse.urlparse("http://example.com/a?b=%d" % k)
        urllib.parse.quote("a b/c")
        textwrap.fill("word " * 30, 40)
        decimal.Decimal("1.1") + decimal.Decimal(k)
        fractions.Fraction(k, 7)
        pathlib.Path("/tmp") / ("f%d" % k)
        string.Template("$a-$b").substitute(a=1, b=k)
        fnmatch.fnmatch("abc%d.py" % k, "*.py")
        "héllo".encode("latin-1"); "héllo".encode("utf-16"); "x".encode("cp1252")
        email.utils.formatdate()
        html.escape("<a href='x'>")
        base64.b64encode(b"abc")
        hashlib.sha256(b"x").hexdigest()
        statistics.mean([1, 2, k])
        uuid.uuid4()
        csv.reader(io.StringIO("a,b\n1,2\n"))
        list(csv.reader(io.StringIO("a,b\n1,%d\n" % k)))
        collections.namedtuple("P%d" % (k % 3), "x y")
        time.strftime("%Y")
        random.random()

ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("ok")
