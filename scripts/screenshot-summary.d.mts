/** The Markdown as a standalone HTML page styled like GitHub's job summary. */
export declare function summaryPage(markdown: string, title?: string): string;
