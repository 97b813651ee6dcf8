#!/usr/bin/env bash
# The hand-labelling loop through a real spreadsheet (LibreOffice Calc, headless): classify pick
# writes to_label.csv, the "person" fills in the label column, the spreadsheet opens the file and
# saves it again as ';'-separated CSV (as where ',' is the decimal mark), and classify train reads
# it back. The tweets get 19-digit ids (as Twitter's are) so that a spreadsheet would round them.
# Also shown: the same file without tmine's apostrophes, whose ids come back rounded.
#
#   apt-get install -y --no-install-recommends libreoffice-calc-nogui   # not needed by CI
#   TMINE=build/tmine bash scripts/spreadsheet_roundtrip.sh
set -euo pipefail
TMINE=${TMINE:-build/tmine}
DATA=${TMINE_DATA:-../shared/data}
command -v soffice >/dev/null || { echo "spreadsheet_roundtrip: soffice (LibreOffice) is not installed" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 - "$DATA/twcs-customer-support-sample.csv.gz" "$W" <<'EOF'
import csv, gzip, io, json, sys
src, w = sys.argv[1], sys.argv[2]
rows = csv.reader(io.TextIOWrapper(gzip.open(src), newline=''))
next(rows)
truth = {}
with open(w + '/c.jsonl', 'w') as f, open(w + '/labels.csv', 'w') as g:
    g.write('id,label\n')
    for row in rows:
        if len(row) <= 5:
            continue
        i = str(1400000000000000000 + int(row[1]))
        label = 'customer' if row[3] == 'True' else 'brand'
        truth[i] = label
        f.write(json.dumps({'id': i, 'text': row[5]}) + '\n')
        if len(truth) <= 1500:
            g.write(i + ',' + label + '\n')
json.dump(truth, open(w + '/truth.json', 'w'))
EOF
q=(-q --device cpu)
"$TMINE" ingest "$W/c.jsonl" --text-field text --id-field id "${q[@]}" -o "$W/c.tmc"
"$TMINE" vectorize "$W/c.tmc" "${q[@]}" -o "$W/m.tmx"
"$TMINE" classify train "$W/m.tmx" --corpus "$W/c.tmc" --labels "$W/labels.csv" "${q[@]}" -o "$W/clf"
"$TMINE" classify pick "$W/m.tmx" --corpus "$W/c.tmc" --model "$W/clf" --labels "$W/labels.csv" -n 40 \
    "${q[@]}" -o "$W/pick.csv"
# the person fills in the label column (python's csv module: the file's quoting as it is)
fill() {
    python3 - "$1" "$2" "$W/truth.json" <<'EOF'
import csv, json, sys
truth = json.load(open(sys.argv[3]))
rows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))
for r in rows[1:]:
    r[1] = truth[r[0].lstrip("'")]
csv.writer(open(sys.argv[2], 'w', encoding='utf-8-sig', newline=''), lineterminator='\n').writerows(rows)
EOF
}
through_spreadsheet() {  # CSV (UTF-8, ',') -> .xlsx -> CSV (UTF-8, ';')
    local name=$1
    (cd "$W" && HOME="$W" soffice --headless --infilter="CSV:44,34,76,1" --convert-to xlsx "$name.csv" >/dev/null 2>&1 &&
        HOME="$W" soffice --headless --convert-to 'csv:Text - txt - csv (StarCalc):59,34,76' --outdir back \
            "$name.xlsx" >/dev/null 2>&1)
}
fill "$W/pick.csv" "$W/filled.csv"
sed "s/^'//; s/,'/,/g" "$W/filled.csv" >"$W/plain.csv"  # the same without tmine's apostrophes
through_spreadsheet filled
through_spreadsheet plain
echo "picked (first rows):"; sed -n 2,3p "$W/pick.csv" | cut -c1-100
echo "after the spreadsheet:"; sed -n 2,3p "$W/back/filled.csv" | cut -c1-100
"$TMINE" classify train "$W/m.tmx" --corpus "$W/c.tmc" --labels "$W/labels.csv" --labels "$W/back/filled.csv" \
    "${q[@]}" -o "$W/clf2"
rows=$(grep -o '"train_rows": [0-9]*' "$W/clf2/classifier.json")
echo "retrained with the spreadsheet's file: $rows (1500 + 40 expected)"
[ "$rows" = '"train_rows": 1540' ]
echo "without the apostrophes, after the spreadsheet:"; sed -n 2p "$W/back/plain.csv" | cut -c1-100
if "$TMINE" classify train "$W/m.tmx" --corpus "$W/c.tmc" --labels "$W/labels.csv" --labels "$W/back/plain.csv" \
    "${q[@]}" -o "$W/clf3" 2>"$W/err"; then
    echo "spreadsheet_roundtrip: the rounded ids were accepted" >&2
    exit 1
fi
cat "$W/err"
grep -q 'a spreadsheet rounded it as a number' "$W/err"

# Ids and values of other shapes, through `run --spreadsheet`'s documents.csv and the plain one:
# every id must come back (after the apostrophe tmine's readers take off) as it was written.
python3 - "$W/ids.jsonl" <<'EOF'
import json, sys
ids = ['007', '123456789012', '1234567890123456', '+4915112345678', '=1+1', '@user', '-17', 't9']
with open(sys.argv[1], 'w') as f:
    for i in ids:
        f.write(json.dumps({'id': i, 'text': 'streaming series tonight on the sofa'}) + '\n')
EOF
for mode in sheet plain; do
    flag=(); [ "$mode" = sheet ] && flag=(--spreadsheet)
    "$TMINE" run "$W/ids.jsonl" --text-field text --id-field id --min-df 1 --max-df 1.0 -k 1 --iters 5 \
        --stop-words none "${flag[@]}" "${q[@]}" -o "$W/ids_$mode" >/dev/null 2>&1
    cp "$W/ids_$mode/documents.csv" "$W/ids_$mode.csv"
    through_spreadsheet "ids_$mode"
done
python3 - "$W/ids.jsonl" "$W/back/ids_sheet.csv" "$W/back/ids_plain.csv" <<'EOF'
import csv, json, sys
want = [json.loads(l)['id'] for l in open(sys.argv[1])]
def ids(path):
    rows = list(csv.reader(open(path, encoding='utf-8-sig', newline=''), delimiter=';'))
    return [r[1] for r in rows[1:]]
sheet, plain = ids(sys.argv[2]), ids(sys.argv[3])
print('id written          --spreadsheet, back     plain, back')
for w, s, p in zip(want, sheet, plain):
    print(f'{w:<20}{s:<24}{p}')
bad = [w for w, s in zip(want, sheet) if (s[1:] if s.startswith("'") else s) != w]
if bad or len(sheet) != len(want):
    sys.exit('spreadsheet_roundtrip: ids changed by the spreadsheet despite --spreadsheet: %s' % bad)
EOF
echo "spreadsheet_roundtrip: ok"
