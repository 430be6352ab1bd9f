"""Committee papers: what the workbook, the PDF paper and the covering report are built from."""
