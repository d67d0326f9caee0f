extension HTMLSite {
    /// One stylesheet for every page: large type and strong contrast for a projector, CJK
    /// fonts and line height for Chinese, code that scrolls on screen and wraps on paper.
    static let stylesheet = #"""
        :root {
          --text: #1b1b1f;
          --muted: #5b5f6b;
          --accent: #7a1f8f;
          --link: #0b57d0;
          --rule: #d6d8de;
          --code-bg: #f3f4f7;
          --page: #ffffff;
          --sans: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
            "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
          --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", "Noto Sans Mono CJK SC",
            Menlo, Consolas, monospace;
        }
        * { box-sizing: border-box; }
        html { font-size: 112.5%; -webkit-text-size-adjust: 100%; }
        body {
          margin: 0; background: var(--page); color: var(--text);
          font-family: var(--sans); line-height: 1.65;
        }
        /* Chinese reads better with more leading; headings and code keep theirs. */
        :lang(zh) :is(p, li, blockquote) { line-height: 1.85; letter-spacing: 0.02em; }
        main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
        main.home { max-width: 68rem; }
        h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 0.6em; }
        h1 { font-size: 2.1rem; color: var(--accent); margin-top: 0.4em; }
        h2 { font-size: 1.5rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2em; }
        h3 { font-size: 1.2rem; }
        :lang(zh) h1, :lang(zh) h2, :lang(zh) h3 { letter-spacing: 0.05em; }
        p, ul, ol, blockquote, pre { margin: 0 0 1em; }
        a { color: var(--link); text-underline-offset: 0.15em; }
        em { font-style: italic; }
        :lang(zh) em { font-style: normal; text-emphasis: filled dot; text-emphasis-position: under right; }
        code {
          font-family: var(--mono); font-size: 0.9em; background: var(--code-bg);
          padding: 0.1em 0.3em; border-radius: 4px;
        }
        pre {
          background: var(--code-bg); border-left: 4px solid var(--accent); border-radius: 4px;
          padding: 0.8em 1em; overflow-x: auto; line-height: 1.45;
        }
        pre code { background: none; padding: 0; font-size: 0.88em; }
        pre[data-lang]::before {
          content: attr(data-lang); display: block; color: var(--muted); font-size: 0.75em;
          margin-bottom: 0.3em; font-family: var(--sans);
        }
        blockquote {
          margin-left: 0; padding: 0.2em 1em; border-left: 4px solid var(--rule); color: var(--muted);
        }
        blockquote > :last-child, li > :last-child { margin-bottom: 0; }
        hr { border: none; border-top: 2px solid var(--rule); margin: 2em 0; }
        img { max-width: 100%; height: auto; }
        li + li { margin-top: 0.25em; }
        li > ul, li > ol { margin-top: 0.25em; margin-bottom: 0; }
        .place { color: var(--muted); margin: 0; font-size: 0.95rem; text-transform: uppercase; letter-spacing: 0.06em; }
        .sources { margin-top: 3em; font-size: 0.95rem; }
        .sources cite { font-style: italic; }
        :lang(zh) .sources cite { font-style: normal; }
        nav.top {
          display: flex; justify-content: space-between; max-width: 44rem; margin: 0 auto;
          padding: 0.8rem 1.25rem; border-bottom: 1px solid var(--rule);
        }
        nav a { text-decoration: none; }
        nav.pager {
          display: flex; justify-content: space-between; gap: 1rem; max-width: 44rem;
          margin: 0 auto 3rem; padding: 1rem 1.25rem; border-top: 1px solid var(--rule);
        }
        nav.pager a { display: flex; flex-direction: column; max-width: 48%; }
        nav.pager a.next { margin-left: auto; text-align: right; }
        nav.pager span { color: var(--muted); font-size: 0.85rem; }
        ol.lessons { list-style: none; padding: 0; }
        ol.lessons li { margin: 0.4em 0; }
        ol.lessons .place { display: inline-block; min-width: 7.5em; font-size: 0.8rem; }
        .intro { color: var(--muted); font-size: 1.1rem; }
        .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 3rem; }
        .columns h2 a { color: inherit; text-decoration: none; }
        nav.toc { font-size: 0.95rem; border: 1px solid var(--rule); border-radius: 6px; padding: 0.6em 1em; margin: 1em 0 2em; }
        nav.toc p { margin: 0 0 0.3em; color: var(--muted); font-weight: 600; }
        nav.toc ol { margin: 0; padding-left: 1.4em; }
        h2[id] { scroll-margin-top: 1rem; }
        aside.try { background: var(--code-bg); border-radius: 6px; padding: 0.7em 1em; margin: 1em 0; }
        aside.try p { margin: 0.2em 0; }
        aside.try ul { margin: 0.4em 0 0; }
        main.timeline { max-width: none; }
        .picture { overflow-x: auto; }
        .picture svg { display: block; width: 100%; min-width: 60rem; height: auto; }
        .picture a:focus { outline: none; }
        figure.diagram { margin: 1em 0; overflow-x: auto; }
        figure.diagram svg { display: block; max-width: 100%; height: auto; }
        #search { width: 100%; font: inherit; padding: 0.4em 0.6em; border: 1px solid var(--rule); border-radius: 6px; margin: 0.5em 0; }
        #results:empty { display: none; }
        /* Long commands and tables scroll inside the page instead of widening it. */
        article { min-width: 0; overflow-wrap: anywhere; }
        article table { display: block; overflow-x: auto; }
        /* A projector washes out light greys: darken them and enlarge the text. */
        @media projection, (min-width: 1600px) {
          html { font-size: 137.5%; }
          :root { --muted: #3b3f4a; --rule: #9aa0ab; }
        }
        @media print {
          html { font-size: 11pt; }
          nav { display: none; }
          main { max-width: none; padding: 0; }
          a { color: inherit; }
          article a[href^="http"]::after { content: " <" attr(href) ">"; font-size: 0.85em; color: var(--muted); word-break: break-all; }
          pre { white-space: pre-wrap; border-left-color: #888; page-break-inside: avoid; }
          h1, h2, h3 { page-break-after: avoid; }
        }
        """#
}
