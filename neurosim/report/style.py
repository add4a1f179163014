"""The report pages' style sheet (inline in every page: the report and the comparison)."""

CSS = """
:root { --ink:#1f2328; --mute:#656d76; --line:#e3e6ea; --bg:#f6f7f9; --card:#ffffff;
        --good:#0a7d4f; --bad:#c0392b; --warn:#b7791f; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 24px 60px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header p.sub { margin: 0 0 18px; color: var(--mute); }
nav { margin: 0 0 20px; font-size: 13px; color: var(--mute); display: flex; flex-wrap: wrap;
      gap: 4px 14px; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px;
         margin-bottom: 26px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
        padding: 12px 14px; }
.card .label { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--mute); }
.card .value { font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .detail { font-size: 12.5px; color: var(--mute); margin-top: 2px; }
.card.good { border-top: 4px solid var(--good); } .card.good .value { color: var(--good); }
.card.bad { border-top: 4px solid var(--bad); } .card.bad .value { color: var(--bad); }
.card.neutral { border-top: 4px solid var(--accent); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
          padding: 18px 22px 20px; margin-bottom: 18px; }
section h2 { font-size: 18px; margin: 0 0 6px; }
section p.lead { margin: 0 0 12px; color: #3b4148; }
figure { margin: 8px 0 0; }
figure img { display:block; width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: 12.5px; color: var(--mute); margin-top: 4px; }
.missing { border: 1px dashed #c4c9cf; border-radius: 8px; background: #fafbfc; color: var(--mute);
           padding: 18px; text-align: center; font-size: 13.5px; margin-top: 8px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 8px 28px; }
@media (max-width: 720px) { .grid2 { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 8px 5px 0; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { color: var(--mute); font-weight: 500; width: 45%; }
table.data th { width: auto; }
table.data td, table.data th { padding-right: 14px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
h3 { font-size: 14px; margin: 10px 0 4px; color: #3b4148; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px;
      overflow-x: auto; max-height: 420px; }
details summary { cursor: pointer; color: var(--accent); margin-top: 10px; }
.pill { display:inline-block; padding: 0 8px; border-radius: 10px; font-size: 12.5px;
        font-weight: 600; }
.pill.good { background:#e3f4ec; color: var(--good); } .pill.bad { background:#fbe9e7; color: var(--bad); }
footer { color: var(--mute); font-size: 12px; text-align: center; margin-top: 24px; }
"""
