//! The seed's mail prompts: `To: `, then `==== Message (^D to send) ====`
//! and the message line by line; Ctrl+D sends, Ctrl+C cancels.

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use crate::error::CliError;

/// The line editor the prompts share.
pub struct Prompt {
    editor: DefaultEditor,
}

impl Prompt {
    /// Takes the terminal.
    pub fn new() -> Result<Self, CliError> {
        Ok(Self {
            editor: DefaultEditor::new().map_err(editor_error)?,
        })
    }

    /// The `To: ` line; `None` on Ctrl+C or Ctrl+D.
    pub fn recipients(&mut self) -> Result<Option<String>, CliError> {
        match self.editor.readline("To: ") {
            Ok(line) => Ok(Some(line)),
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => Ok(None),
            Err(err) => Err(editor_error(err)),
        }
    }

    /// The message, up to Ctrl+D; `None` on Ctrl+C.
    pub fn message(&mut self) -> Result<Option<String>, CliError> {
        println!("==== Message (^D to send) ====");
        let mut text = String::new();
        loop {
            match self.editor.readline("") {
                Ok(line) => {
                    text.push_str(&line);
                    text.push('\n');
                }
                Err(ReadlineError::Eof) => return Ok(Some(text)),
                Err(ReadlineError::Interrupted) => return Ok(None),
                Err(err) => return Err(editor_error(err)),
            }
        }
    }
}

fn editor_error(err: ReadlineError) -> CliError {
    CliError::Io(std::io::Error::other(format!("line editor: {err}")))
}
