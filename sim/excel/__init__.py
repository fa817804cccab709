"""Excel in and out: results as one workbook, scenarios as workbooks laid out like the YAML's sections."""
